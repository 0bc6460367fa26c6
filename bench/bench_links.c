/* bench_links.c: link extraction speed of tw_links against libxml2's HTML parser and gumbo. */

/*
 * Run:
 *   python3 /work/shared/bench/gensite.py --pages 2000 --out /tmp/linksite
 *   make bench BENCH_LIBS="-lxml2 -lgumbo" EXTRA_CFLAGS="$(pkg-config --cflags libxml-2.0)"
 *   build/bench/bench_links /tmp/linksite [seconds-per-parser]
 *
 * It loads every page of the site into memory, then for each parser repeats passes over
 * all pages for about the given CPU time (default 2 s) and prints MB/s, pages/s and the <a
 * href> count per pass (the same for all three when they agree). tw_links is measured fed
 * whole and fed in 4 KiB chunks, as the network delivers it. libxml2 runs htmlReadMemory
 * with RECOVER|NOERROR|NOWARNING|NONET and walks the tree; gumbo runs gumbo_parse and
 * walks its tree. EXTRA_CFLAGS is needed for the libxml2 header. The two libraries are
 * looked up with dlsym, in the program when BENCH_LIBS linked them, else loaded with
 * dlopen (libxml2.so.2, libgumbo.so.*), so a plain `make bench` (no BENCH_LIBS, and
 * gcc's default --as-needed dropping unreferenced libraries) still builds and runs this;
 * a parser whose header or library is missing prints "-" and says why.
 */
#include "links.h"

#include <dirent.h>
#include <dlfcn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#if __has_include(<libxml/HTMLparser.h>)
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>
#define HAVE_LIBXML2 1
static struct {
    __typeof__(htmlReadMemory) *read_memory;
    __typeof__(xmlFreeDoc) *free_doc;
    __typeof__(xmlDocGetRootElement) *root;
} xml;
#endif
#if __has_include(<gumbo.h>)
#include <gumbo.h>
#define HAVE_GUMBO 1
static struct {
    __typeof__(gumbo_parse_with_options) *parse;
    __typeof__(gumbo_destroy_output) *destroy;
    __typeof__(gumbo_get_attribute) *get_attribute;
    const GumboOptions *options;
} gb;
#endif

/* A library function: from the program itself if linked, else from the first of the
 * shared objects that loads. */
static void *lookup(const char *const *sonames, const char *sym)
{
    void *f = dlsym(RTLD_DEFAULT, sym);
    for (size_t i = 0; !f && sonames[i]; i++) {
        void *h = dlopen(sonames[i], RTLD_NOW | RTLD_GLOBAL);
        if (h)
            f = dlsym(h, sym);
    }
    return f;
}

typedef struct {
    char *data;
    size_t len;
} page;

typedef struct {
    page *pages;
    size_t n, bytes;
} site;

/* CPU time of this thread: the figure is per core, and other processes on a shared
 * machine do not inflate it. */
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static bool load_file(const char *path, page *pg)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    pg->data = malloc((size_t)n + 1);
    pg->len = fread(pg->data, 1, (size_t)n, f);
    pg->data[pg->len] = '\0'; /* libxml2 and gumbo take lengths, but be safe */
    fclose(f);
    return true;
}

static bool load_site(const char *dir, site *s)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/p", dir);
    DIR *d = opendir(path);
    if (!d)
        return false;
    size_t cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t nl = strlen(e->d_name);
        if (nl < 6 || strcmp(e->d_name + nl - 5, ".html") != 0)
            continue;
        if (s->n == cap) {
            cap = cap ? cap * 2 : 1024;
            s->pages = realloc(s->pages, cap * sizeof *s->pages);
        }
        snprintf(path, sizeof path, "%s/p/%s", dir, e->d_name);
        if (load_file(path, &s->pages[s->n])) {
            s->bytes += s->pages[s->n].len;
            s->n++;
        }
    }
    closedir(d);
    return s->n > 0;
}

/* ---- the parsers, each returning the number of <a href> in a page ---- */

static void count_a(void *ctx, const tw_link *l)
{
    if (l->kind == TW_LINK_A)
        ++*(size_t *)ctx;
}

static size_t run_tw_whole(const page *pg)
{
    size_t n = 0;
    tw_links_extract(pg->data, pg->len, count_a, &n, NULL);
    return n;
}

static size_t run_tw_chunked(const page *pg)
{
    size_t n = 0;
    tw_links *p = tw_links_new(count_a, &n);
    for (size_t at = 0; at < pg->len; at += 4096)
        tw_links_feed(p, pg->data + at, pg->len - at < 4096 ? pg->len - at : 4096);
    tw_links_finish(p);
    tw_links_free(p);
    return n;
}

#ifdef HAVE_LIBXML2
static size_t xml_walk(xmlNode *node)
{
    size_t n = 0;
    for (; node; node = node->next) {
        if (node->type == XML_ELEMENT_NODE && strcmp((const char *)node->name, "a") == 0)
            for (xmlAttr *a = node->properties; a; a = a->next)
                if (strcmp((const char *)a->name, "href") == 0 && a->children)
                    n++;
        n += xml_walk(node->children);
    }
    return n;
}

static size_t run_libxml2(const page *pg)
{
    htmlDocPtr doc = xml.read_memory(pg->data, (int)pg->len, NULL, "utf-8",
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                    HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (!doc)
        return 0;
    size_t n = xml_walk(xml.root(doc));
    xml.free_doc(doc);
    return n;
}
#endif

#ifdef HAVE_GUMBO
static size_t gumbo_walk(const GumboNode *node)
{
    if (node->type != GUMBO_NODE_ELEMENT)
        return 0;
    size_t n = 0;
    if (node->v.element.tag == GUMBO_TAG_A &&
        gb.get_attribute(&node->v.element.attributes, "href"))
        n++;
    const GumboVector *kids = &node->v.element.children;
    for (unsigned i = 0; i < kids->length; i++)
        n += gumbo_walk(kids->data[i]);
    return n;
}

static size_t run_gumbo(const page *pg)
{
    GumboOutput *out = gb.parse(gb.options, pg->data, pg->len);
    size_t n = gumbo_walk(out->root);
    gb.destroy(gb.options, out);
    return n;
}
#endif

static void measure(const char *name, size_t (*run)(const page *), const site *s, double secs)
{
    size_t passes = 0, links = 0;
    double t0 = now(), t;
    do {
        size_t n = 0;
        for (size_t i = 0; i < s->n; i++)
            n += run(&s->pages[i]);
        links = n;
        passes++;
        t = now() - t0;
    } while (t < secs);
    double mb = (double)s->bytes * passes / 1e6;
    printf("%-26s %10.1f %12.0f %12zu %8zu\n", name, mb / t, (double)s->n * passes / t, links,
           passes);
}

static void not_built(const char *name, const char *why)
{
    printf("%-26s %10s %12s %12s %8s  (%s)\n", name, "-", "-", "-", "-", why);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s SITE_DIR [SECONDS]\n"
                        "  SITE_DIR made by: python3 /work/shared/bench/gensite.py "
                        "--pages 2000 --out /tmp/linksite\n", argv[0]);
        return 2;
    }
    double secs = argc > 2 ? atof(argv[2]) : 2.0;
    site s = {0};
    if (!load_site(argv[1], &s)) {
        fprintf(stderr, "%s: no pages in %s/p\n", argv[0], argv[1]);
        return 1;
    }
    printf("%zu pages, %.1f MB, %.1f KB/page; one core\n\n", s.n, s.bytes / 1e6,
           s.bytes / 1e3 / s.n);
    printf("%-26s %10s %12s %12s %8s\n", "parser", "MB/s", "pages/s", "a@href/pass",
           "passes");
    measure("tw_links (whole)", run_tw_whole, &s, secs);
    measure("tw_links (4 KiB chunks)", run_tw_chunked, &s, secs);
#ifdef HAVE_LIBXML2
    static const char *const xml_so[] = {"libxml2.so.2", "libxml2.so", NULL};
    xml.read_memory = (__typeof__(xml.read_memory))lookup(xml_so, "htmlReadMemory");
    xml.free_doc = (__typeof__(xml.free_doc))lookup(xml_so, "xmlFreeDoc");
    xml.root = (__typeof__(xml.root))lookup(xml_so, "xmlDocGetRootElement");
    if (xml.read_memory && xml.free_doc && xml.root)
        measure("libxml2 htmlReadMemory", run_libxml2, &s, secs);
    else
        not_built("libxml2 htmlReadMemory", "libxml2.so.2 not found");
#else
    not_built("libxml2 htmlReadMemory",
              "header not found: EXTRA_CFLAGS=\"$(pkg-config --cflags libxml-2.0)\"");
#endif
#ifdef HAVE_GUMBO
    static const char *const gumbo_so[] = {"libgumbo.so.2", "libgumbo.so.1", "libgumbo.so",
                                            NULL};
    gb.parse = (__typeof__(gb.parse))lookup(gumbo_so, "gumbo_parse_with_options");
    gb.destroy = (__typeof__(gb.destroy))lookup(gumbo_so, "gumbo_destroy_output");
    gb.get_attribute = (__typeof__(gb.get_attribute))lookup(gumbo_so, "gumbo_get_attribute");
    gb.options = lookup(gumbo_so, "kGumboDefaultOptions");
    if (gb.parse && gb.destroy && gb.get_attribute && gb.options)
        measure("gumbo_parse", run_gumbo, &s, secs);
    else
        not_built("gumbo_parse", "libgumbo.so not found");
#else
    not_built("gumbo_parse", "gumbo.h not found (libgumbo-dev)");
#endif
    for (size_t i = 0; i < s.n; i++)
        free(s.pages[i].data);
    free(s.pages);
    return 0;
}
