#include <string.h>

#include "push.h"

#define PUSH_MORE 0x01
#define ITEM_HEAD (8 + 8 + 4)

void
push_init(struct push *p)
{
	p->buf[0] = 0;
	p->len = 1;
}

int
push_add(struct push *p, int64_t seq, int64_t prev, const char *json,
    size_t len)
{
	uint32_t n = (uint32_t)len;

	if (len > sizeof(p->buf) || sizeof(p->buf) - p->len < ITEM_HEAD + len)
		return -1;
	memcpy(p->buf + p->len, &seq, 8);
	memcpy(p->buf + p->len + 8, &prev, 8);
	memcpy(p->buf + p->len + 16, &n, 4);
	memcpy(p->buf + p->len + ITEM_HEAD, json, len);
	p->len += ITEM_HEAD + len;
	return 0;
}

int
push_has_items(const struct push *p)
{
	return p->len > 1;
}

void
push_set_more(struct push *p)
{
	p->buf[0] |= PUSH_MORE;
}

int
push_read(struct push_reader *r, const char *payload, size_t len)
{
	if (len < 1)
		return -1;
	r->more = (payload[0] & PUSH_MORE) != 0;
	r->at = payload + 1;
	r->end = payload + len;
	return 0;
}

int
push_next(struct push_reader *r, struct push_item *item)
{
	uint32_t n;

	if (r->at == r->end)
		return 0;
	if ((size_t)(r->end - r->at) < ITEM_HEAD)
		return -1;
	memcpy(&item->seq, r->at, 8);
	memcpy(&item->prev, r->at + 8, 8);
	memcpy(&n, r->at + 16, 4);
	if ((size_t)(r->end - r->at) - ITEM_HEAD < n)
		return -1;
	item->json = r->at + ITEM_HEAD;
	item->len = n;
	r->at += ITEM_HEAD + n;
	return 1;
}
