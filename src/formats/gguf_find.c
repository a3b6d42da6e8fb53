/* gguf_find.c - lookups in a GgufFile that gguf_open accepted (gguf.h): metadata by key, typed getters, string
 * arrays in order, tensors by name (a binary search over the by-name index gguf_open sorted). Every length read
 * here was checked against the image by gguf_open; nothing here checks it again. */
#include "gguf.h"

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

int gguf_str_eq(GgufStr s, const char *z)
{
    uint64_t i = 0;
    for (; i < s.len; i++)
        if (!z[i] || z[i] != s.ptr[i])
            return 0;
    return z[i] == 0;
}

const GgufKV *gguf_find_kv(const GgufFile *f, const char *key)
{
    for (uint64_t i = 0; i < f->n_kv; i++)
        if (gguf_str_eq(f->kv[i].key, key))
            return &f->kv[i];
    return NULL;
}

static const GgufKV *find_typed(const GgufFile *f, const char *key, uint32_t type)
{
    const GgufKV *kv = gguf_find_kv(f, key);
    return kv && kv->type == type ? kv : NULL;
}

int gguf_get_u32(const GgufFile *f, const char *key, uint32_t *out)
{
    const GgufKV *kv = find_typed(f, key, GGUF_U32);
    if (kv)
        *out = le32(kv->data);
    return kv != NULL;
}

int gguf_get_f32(const GgufFile *f, const char *key, float *out)
{
    const GgufKV *kv = find_typed(f, key, GGUF_F32);
    if (kv) {
        union { uint32_t u; float f; } v = {le32(kv->data)};
        *out = v.f;
    }
    return kv != NULL;
}

int gguf_get_str(const GgufFile *f, const char *key, GgufStr *out)
{
    const GgufKV *kv = find_typed(f, key, GGUF_STRING);
    if (kv) {
        out->len = le64(kv->data);
        out->ptr = (const char *)kv->data + 8;
    }
    return kv != NULL;
}

int gguf_get_array(const GgufFile *f, const char *key, uint32_t *elem_type, uint64_t *count)
{
    const GgufKV *kv = find_typed(f, key, GGUF_ARRAY);
    if (kv) {
        *elem_type = kv->elem_type;
        *count = kv->count;
    }
    return kv != NULL;
}

void gguf_str_iter_init(GgufStrIter *it, const GgufKV *kv)
{
    it->p = kv->data;
    it->left = kv->elem_type == GGUF_STRING ? kv->count : 0;
}

int gguf_str_iter_next(GgufStrIter *it, GgufStr *out)
{
    if (!it->left)
        return 0;
    out->len = le64(it->p); /* gguf_open checked every length against the image */
    out->ptr = (const char *)it->p + 8;
    it->p += 8 + out->len;
    it->left--;
    return 1;
}

int gguf_array_u32(const GgufKV *kv, uint64_t i, uint32_t *out)
{
    uint32_t t = kv->elem_type;
    if (kv->type != GGUF_ARRAY || (t != GGUF_U32 && t != GGUF_I32 && t != GGUF_F32) || i >= kv->count)
        return 0;
    *out = le32(kv->data + 4 * i);
    return 1;
}

static int name_cmp(GgufStr s, const char *z)
{
    uint64_t i = 0;
    for (; i < s.len && z[i]; i++)
        if (s.ptr[i] != z[i])
            return (uint8_t)s.ptr[i] < (uint8_t)z[i] ? -1 : 1;
    return i < s.len ? 1 : (z[i] ? -1 : 0);
}

const GgufTensor *gguf_find_tensor(const GgufFile *f, const char *name)
{
    uint64_t lo = 0, hi = f->n_tensors;
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        const GgufTensor *t = &f->tensors[f->by_name[mid]];
        int c = name_cmp(t->name, name);
        if (c == 0)
            return t;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}
