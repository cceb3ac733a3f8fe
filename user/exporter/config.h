/* memscope-exporter's configuration file: one setting a line,
 *     # comment
 *     listen = 127.0.0.1:19736
 *     interval = 5
 * "key = value" or "key value"; the keys are the long options' names. */
#ifndef MEMSCOPE_EXPORTER_CONFIG_H
#define MEMSCOPE_EXPORTER_CONFIG_H

#include <stddef.h>

/* Called for every setting; returns 0, or -1 with a reason in err. */
typedef int (*config_set_fn)(void *ctx, const char *key, const char *value, char *err, size_t errlen);

/* Read path and pass each setting to set. 0, or -1 with "FILE:LINE: why"
 * in err. */
int config_load(const char *path, config_set_fn set, void *ctx, char *err, size_t errlen);

#endif
