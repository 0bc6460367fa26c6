/* links.h: streaming extraction of the links in an HTML page, as a browser would find them. */
#ifndef TW_LINKS_H
#define TW_LINKS_H

/*
 * Feed the body as it arrives; each link is reported through a callback in document
 * order. What is reported (see docs of tw_link_kind): a/area href, frame/iframe src,
 * link href with its rel, the first base href, and the URL of a meta refresh. Nothing is
 * found inside comments, script, style, textarea, title, xmp, iframe, noembed, noframes,
 * plaintext, DOCTYPEs or CDATA sections, following the HTML standard's tokenizer.
 * <noscript> content is parsed as markup: a crawler is a user agent without scripting.
 *
 * URLs are reported as written (after character reference decoding and trimming), not
 * resolved: resolve each against the document URL, or against the TW_LINK_BASE URL once
 * one has been reported (it is always reported before the links it applies to, except
 * that, as in browsers, it also applies to links before it in the document; a crawler
 * normally sees <base> in <head> first).
 */

#include <stdbool.h>
#include <stddef.h>

typedef enum {
    TW_LINK_A,            /* <a href> */
    TW_LINK_AREA,         /* <area href> */
    TW_LINK_FRAME,        /* <frame src> */
    TW_LINK_IFRAME,       /* <iframe src> */
    TW_LINK_LINK,         /* <link href>; follow it only when rel says so (tw_links_rel_has) */
    TW_LINK_BASE,         /* the first <base href>: the base URL for resolving links */
    TW_LINK_META_REFRESH, /* <meta http-equiv=refresh content="N; url=...">: the URL */
} tw_link_kind;

/* One link. Strings are not NUL-terminated and are valid only during the callback. */
typedef struct {
    tw_link_kind kind;
    const char *url;  /* decoded attribute value trimmed of ASCII whitespace; may be "" */
    size_t url_len;
    const char *rel;  /* the rel attribute (a, area, link), trimmed; NULL when absent */
    size_t rel_len;
    bool nofollow;    /* rel has the token "nofollow" */
} tw_link;

typedef void (*tw_link_cb)(void *ctx, const tw_link *link);

/* Robots directives of <meta name=robots content=...>, as bits. */
enum {
    TW_ROBOTS_NOFOLLOW = 1, /* "nofollow" or "none" */
    TW_ROBOTS_NOINDEX = 2,  /* "noindex" or "none" */
};

typedef struct tw_links tw_links;

/* Create an extractor that calls cb(ctx, link) for each link. Allocates (a few hundred
 * bytes, growing to at most about 300 KiB while a very large tag is read); returns NULL
 * when out of memory. Free with tw_links_free. */
tw_links *tw_links_new(tw_link_cb cb, void *ctx);

/* Scan the next `len` bytes of the body; a tag split across calls is handled. Calls cb
 * for each link completed in these bytes. `data` is not retained. Returns 0, or -1 if
 * called after tw_links_finish (the data is ignored). A URL longer than
 * TW_HTML_MAX_VALUE (64 KiB) is not reported but counted in tw_links_dropped. */
int tw_links_feed(tw_links *p, const char *data, size_t len);

/* End of the body: a tag left unfinished is discarded (as the HTML standard does). The
 * meta robots results are final from then on. Returns 0, or -1 if already finished. */
int tw_links_finish(tw_links *p);

/* Whether the document so far has <meta name=robots> with nofollow or none. A link seen
 * before that meta element has already been reported: check this after finishing. */
bool tw_links_meta_nofollow(const tw_links *p);

/* Whether the document so far has <meta name=robots> with noindex or none. */
bool tw_links_meta_noindex(const tw_links *p);

/* Links not reported because their URL exceeded 64 KiB or the tag held too much. */
size_t tw_links_dropped(const tw_links *p);

/* Free the extractor; NULL is allowed. */
void tw_links_free(tw_links *p);

/* One-shot convenience: extract the links of a whole body. *robots (if not NULL) gets the
 * TW_ROBOTS_* bits. Returns 0, or -1 when out of memory (no link reported then). */
int tw_links_extract(const char *data, size_t len, tw_link_cb cb, void *ctx,
                     unsigned *robots);

/* Whether a rel value (a space-separated token list) contains `token`, compared ASCII
 * case-insensitively; e.g. tw_links_rel_has(l->rel, l->rel_len, "canonical"). rel may be
 * NULL. No allocation. */
bool tw_links_rel_has(const char *rel, size_t rel_len, const char *token);

/* Whether a TW_LINK_LINK should be followed as a hyperlink per the crawl contract: its rel
 * has alternate, canonical, next or prev. No allocation. */
bool tw_links_link_is_followable(const tw_link *link);

#endif
