/* The one JSON layer of the text formats (plans, cost tables, eval reports): a file or buffer
 * parsed by jansson with duplicate keys rejected, and errors that name the file, the line and
 * the column. Each format reads its fields from the tree it gets here. */
#ifndef HY_JSON_FILE_H
#define HY_JSON_FILE_H
#include <jansson.h>
#include <stddef.h>

#include "hy_common.h"

/* Parses json[0..len) as the document called name (for messages). *out owns a reference. */
hy_status hy_json_parse(const char *json, size_t len, const char *name, json_t **out);
/* Reads the whole file at path and parses it as hy_json_parse does. */
hy_status hy_json_read_file(const char *path, json_t **out);

#endif
