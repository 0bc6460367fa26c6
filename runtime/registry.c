/* registry.c -- registered names (Erlang's register/2, whereis/1). One lock guards
 * the table; names are few and lookups short. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#define BUCKETS 256

typedef struct entry {
    struct entry *next;
    tr_pid pid;
    char name[64];
} entry;

static struct {
    pthread_mutex_t lock;
    entry *b[BUCKETS];
} reg;

static unsigned hash(const char *s) {
    unsigned h = 2166136261u;
    while (*s) h = (h ^ (unsigned char)*s++) * 16777619u;
    return h % BUCKETS;
}

void tr__registry_init(void) {
    pthread_mutex_init(&reg.lock, NULL);
    memset(reg.b, 0, sizeof reg.b);
}

void tr__registry_destroy(void) {
    for (int i = 0; i < BUCKETS; i++)
        for (entry *e = reg.b[i], *n; e; e = n) {
            n = e->next;
            free(e);
        }
    memset(reg.b, 0, sizeof reg.b);
    pthread_mutex_destroy(&reg.lock);
}

static entry **find(const char *name) {
    entry **e = &reg.b[hash(name)];
    while (*e && strcmp((*e)->name, name) != 0) e = &(*e)->next;
    return e;
}

int tr_register(const char *name, tr_pid pid) {
    size_t len = name ? strlen(name) : 0;
    if (len == 0 || len >= 64) return TR_EINVAL;
    pthread_mutex_lock(&reg.lock);
    int rc = 0;
    tr__proc *p = tr__lookup(pid);
    /* The exit path marks the process EXITING before it drops the name under this
     * lock, so a name is never left behind for a dead process. */
    if (!p || atomic_load(&p->state) == TR__EXITING) rc = TR_ENOPROC;
    else if (*find(name) || p->name[0]) rc = TR_EEXIST;
    else {
        entry *e = malloc(sizeof *e);
        if (!e) rc = TR_ENOMEM;
        else {
            memcpy(e->name, name, len + 1);
            e->pid = pid;
            e->next = reg.b[hash(name)];
            reg.b[hash(name)] = e;
            tr__info_lock(p);
            memcpy(p->name, name, len + 1);
            tr__info_unlock(p);
        }
    }
    pthread_mutex_unlock(&reg.lock);
    return rc;
}

static int drop_locked(const char *name) {
    entry **e = find(name);
    if (!*e) return TR_EBADNAME;
    entry *dead = *e;
    *e = dead->next;
    tr__proc *p = tr__lookup(dead->pid);
    if (p) {
        tr__info_lock(p);
        p->name[0] = 0;
        tr__info_unlock(p);
    }
    free(dead);
    return 0;
}

int tr_unregister(const char *name) {
    if (!name) return TR_EINVAL;
    pthread_mutex_lock(&reg.lock);
    int rc = drop_locked(name);
    pthread_mutex_unlock(&reg.lock);
    return rc;
}

tr_pid tr_whereis(const char *name) {
    if (!name) return 0;
    pthread_mutex_lock(&reg.lock);
    entry *e = *find(name);
    tr_pid pid = e ? e->pid : 0;
    pthread_mutex_unlock(&reg.lock);
    return pid;
}

void tr__registry_drop(tr__proc *p) {
    pthread_mutex_lock(&reg.lock);
    if (p->name[0]) drop_locked(p->name);
    pthread_mutex_unlock(&reg.lock);
}
