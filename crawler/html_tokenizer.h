/* html_tokenizer.h: streaming HTML tokenizer (WHATWG states) that reports start tags. */
#ifndef TW_HTML_TOKENIZER_H
#define TW_HTML_TOKENIZER_H

/*
 * A byte-oriented implementation of the tokenizer of the HTML standard ("13.2.5
 * Tokenization"), reduced to what a link extractor needs: it reports start tags with
 * their attributes (names lower-cased, duplicates dropped so the first wins, values with
 * character references decoded and CR/CRLF turned into LF, NUL into U+FFFD) and nothing
 * else. Comments, DOCTYPEs, bogus comments, CDATA sections, end tags and text are
 * recognised only so that no tag is seen inside them. Input is taken to be UTF-8 (or any
 * ASCII-compatible encoding) and may arrive in chunks split anywhere.
 *
 * Memory is bounded whatever the input: at most TW_HTML_MAX_VALUE bytes are kept of any
 * one tag name, attribute name or value (the rest is dropped and the attribute marked
 * truncated), at most TW_HTML_MAX_TAG_BYTES for a whole tag and TW_HTML_MAX_ATTRS
 * attributes per tag (later attributes are dropped and the tag marked).
 */

#include <stdbool.h>
#include <stddef.h>

#define TW_HTML_MAX_VALUE     (64u * 1024)
#define TW_HTML_MAX_TAG_BYTES (256u * 1024)
#define TW_HTML_MAX_ATTRS     512u

/* One attribute of a start tag; the strings are not NUL-terminated. */
typedef struct {
    const char *name;
    size_t name_len;
    const char *value;   /* "" for an attribute written without a value */
    size_t value_len;
    bool truncated;      /* name or value longer than TW_HTML_MAX_VALUE, or tag too big */
} tw_html_attr;

/* A start tag as reported to the callback; valid only during the callback. */
typedef struct {
    const char *name;    /* lower-cased tag name */
    size_t name_len;
    const tw_html_attr *attrs; /* in source order, duplicates removed */
    size_t nattrs;
    bool self_closing;
    bool attrs_dropped;  /* some attributes were not kept (TW_HTML_MAX_* limits) */
} tw_html_tag;

/* Called once the tag name is known: return true to have the tag's attributes kept and
 * the tag reported, false to have it tokenized without being stored or reported. */
typedef bool (*tw_html_want_fn)(void *ctx, const char *name, size_t name_len);
/* Called for each wanted start tag. */
typedef void (*tw_html_tag_fn)(void *ctx, const tw_html_tag *tag);

/* Tokenizer states a caller may start in (tests use this; html5lib's "initialStates"). */
typedef enum {
    TW_HTML_DATA,
    TW_HTML_RCDATA,
    TW_HTML_RAWTEXT,
    TW_HTML_SCRIPT_DATA,
    TW_HTML_PLAINTEXT,
} tw_html_state;

typedef struct tw_html_tok tw_html_tok;

/* Create a tokenizer in the data state. `want` may be NULL (every start tag is wanted).
 * When `tree_rules` is true the tokenizer also does what the tree builder would do to it
 * after a start tag in HTML content: title/textarea switch to RCDATA, style, xmp, iframe,
 * noembed and noframes to RAWTEXT, script to script data, plaintext to PLAINTEXT
 * (noscript is parsed as markup, as for a user agent with scripting disabled, which a
 * crawler is). Foreign content (svg, math) is not tracked. Allocates; returns NULL when
 * out of memory. Free with tw_html_tok_free. */
tw_html_tok *tw_html_tok_new(tw_html_tag_fn on_tag, tw_html_want_fn want, void *ctx,
                             bool tree_rules);

/* Set the state and "the last start tag emitted" (lower-case name, may be NULL), as a test
 * harness does before feeding. No allocation, cannot fail. */
void tw_html_tok_set_state(tw_html_tok *t, tw_html_state state, const char *last_start_tag);

/* Tokenize the next `len` bytes, calling on_tag for each start tag completed in them.
 * Keeps whatever it needs of an unfinished token in `t`; `data` is not retained. */
void tw_html_tok_feed(tw_html_tok *t, const char *data, size_t len);

/* End of input: an unfinished tag is discarded, as the standard says. The tokenizer is
 * back in the data state afterwards and may be fed a new document. */
void tw_html_tok_finish(tw_html_tok *t);

/* Free the tokenizer and everything it holds; NULL is allowed. */
void tw_html_tok_free(tw_html_tok *t);

#endif
