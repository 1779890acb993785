/* What the two halves of the hub client share: hub_paths.c (ids, the cache layout,
 * resolve) defines these, hub.c (the downloads) uses them. Not installed. */
#ifndef SEAM_HUB_INTERNAL_H
#define SEAM_HUB_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "seam.h"

/* The variable's value, NULL when unset or empty. */
const char *hub_env_str(const char *name);
/* The variable as an integer in [0, 1000000], dflt when unset or not one. */
int hub_env_int(const char *name, int dflt);
/* SEAM_OFFLINE or HF_HUB_OFFLINE is set to something other than 0 / false / no / off. */
int hub_offline_env(void);

/* malloc'd copy; NULL when out of memory. */
char *hub_strdup(const char *s);
/* malloc'd concatenation of up to 8 strings, the list ended by NULL. */
char *hub_cat(const char *a, ...);
/* Size of a regular file, -1 when it is not one. */
int64_t hub_file_size(const char *path);
/* mkdir -p, with an error naming the folder that could not be made. */
seam_status hub_mkdir_p(const char *path, seam_error *err);

/* A shard name from an index: a plain file name ending in .safetensors. */
int hub_valid_shard_name(const char *s, size_t len);
/* The folder holds a usable model: not being pulled, and either pulled to the end
 * (.complete) or placed by hand (config.json). */
int hub_model_complete(const char *dir);

#endif
