/* SPDX-License-Identifier: MIT */
/*
 * idmap.h: a hash map from int64 ids to caller-owned items.  Only pointers
 * are stored; each item's key is read through key_of, so an entry costs 8
 * bytes (about 16 at the load factor kept), the point at a million open
 * promises.
 */
#ifndef PROMISED_IDMAP_H
#define PROMISED_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap {
	void **slots;
	size_t cap; /* power of two, or 0 */
	size_t count;
	int64_t (*key_of)(const void *item);
};

void idmap_init(struct idmap *m, int64_t (*key_of)(const void *item));
/* frees the table, not the items */
void idmap_done(struct idmap *m);
/* the item with key id, or NULL */
void *idmap_get(const struct idmap *m, int64_t id);
/* makes room for n items in all without growing; 0 or -ENOMEM */
int idmap_reserve(struct idmap *m, size_t n);
/* adds item (its key must not be present); 0 or -ENOMEM */
int idmap_put(struct idmap *m, void *item);
/* removes and returns the item with key id, or NULL */
void *idmap_del(struct idmap *m, int64_t id);

#endif
