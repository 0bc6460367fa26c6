/* html_entities.h: the HTML standard's named character reference table (data only). */
#ifndef TW_HTML_ENTITIES_H
#define TW_HTML_ENTITIES_H

#include <stdint.h>

#define TW_HTML_ENTITY_COUNT 2231
/* Longest name in the table, "CounterClockwiseContourIntegral;", without the '&'. */
#define TW_HTML_ENTITY_MAX_NAME 32

/* One named reference: name without the leading '&' (with its ';' when the name has one;
 * the 106 legacy names appear both with and without it) and the UTF-8 text it stands for. */
typedef struct {
    char name[TW_HTML_ENTITY_MAX_NAME + 1];
    char value[7];
    uint8_t name_len;
    uint8_t value_len;
} tw_html_entity;

/* The table, sorted bytewise by name (static data, generated into html_entities.c). */
extern const tw_html_entity tw_html_entities[TW_HTML_ENTITY_COUNT];

#endif
