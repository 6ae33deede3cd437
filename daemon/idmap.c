/* SPDX-License-Identifier: MIT */
/*
 * idmap.c: open addressing with linear probing and backward-shift deletion,
 * so there are no tombstones and lookups stay short however many promises
 * come and go.  The table doubles when it passes half full.
 */
#include <errno.h>
#include <stdlib.h>

#include "idmap.h"

static size_t
slot_of(const struct idmap *m, int64_t id)
{
	/* ids are sequential; a multiplicative hash spreads them */
	uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (m->cap - 1);
}

void
idmap_init(struct idmap *m, int64_t (*key_of)(const void *item))
{
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
	m->key_of = key_of;
}

void
idmap_done(struct idmap *m)
{
	free(m->slots);
	m->slots = NULL;
	m->cap = 0;
	m->count = 0;
}

void *
idmap_get(const struct idmap *m, int64_t id)
{
	size_t i;

	if (m->cap == 0)
		return NULL;
	for (i = slot_of(m, id); m->slots[i] != NULL;
	     i = (i + 1) & (m->cap - 1))
		if (m->key_of(m->slots[i]) == id)
			return m->slots[i];
	return NULL;
}

static void
insert(struct idmap *m, void *item)
{
	size_t i = slot_of(m, m->key_of(item));

	while (m->slots[i] != NULL)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = item;
}

int
idmap_reserve(struct idmap *m, size_t n)
{
	void **old = m->slots;
	size_t oldcap = m->cap, cap = m->cap ? m->cap : 64, i;

	while (n * 2 > cap)
		cap *= 2;
	if (cap == m->cap)
		return 0;
	m->slots = calloc(cap, sizeof(*m->slots));
	if (m->slots == NULL) {
		m->slots = old;
		return -ENOMEM;
	}
	m->cap = cap;
	for (i = 0; i < oldcap; i++)
		if (old[i] != NULL)
			insert(m, old[i]);
	free(old);
	return 0;
}

int
idmap_put(struct idmap *m, void *item)
{
	int r;

	if ((r = idmap_reserve(m, m->count + 1)) < 0)
		return r;
	insert(m, item);
	m->count++;
	return 0;
}

void *
idmap_del(struct idmap *m, int64_t id)
{
	size_t i, j, home, mask = m->cap - 1;
	void *item;

	if (m->cap == 0)
		return NULL;
	for (i = slot_of(m, id); m->slots[i] != NULL; i = (i + 1) & mask)
		if (m->key_of(m->slots[i]) == id)
			break;
	if (m->slots[i] == NULL)
		return NULL;
	item = m->slots[i];
	m->slots[i] = NULL;
	m->count--;
	/* pull later members of the probe run back over the hole, keeping
	 * every item reachable from its home slot */
	for (j = (i + 1) & mask; m->slots[j] != NULL; j = (j + 1) & mask) {
		home = slot_of(m, m->key_of(m->slots[j]));
		/* move j into i unless its home lies cyclically in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && (home <= i && home > j))) {
			m->slots[i] = m->slots[j];
			m->slots[j] = NULL;
			i = j;
		}
	}
	return item;
}
