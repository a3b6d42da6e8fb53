/* gguf.c - the GGUF reader (gguf.h). The layout, from ggml's docs/gguf.md, all little-endian:
 *   u32 magic "GGUF", u32 version, u64 n_tensors, u64 n_kv
 *   n_kv x { string key, u32 type, value }        string = u64 length + bytes; array = u32 type, u64 count, values
 *   n_tensors x { string name, u32 n_dims, u64 ne[n_dims], u32 ggml_type, u64 offset }
 *   zero padding up to general.alignment, then the data section; each tensor at data start + offset.
 * Every read goes through rd_take(), which refuses to move past the image's end; sizes are multiplied only after
 * a division has shown the product fits. */
#include "gguf.h"
#include "dequant.h"
#include "../ecmath.h"

#define GGUF_MAX_KEY 255u
#define GGUF_MAX_TENSOR_NAME 63u /* ggml's GGML_MAX_NAME is 64 bytes with the NUL */
#define GGUF_HEADER_BYTES 24u
#define MIN_KV_BYTES 14u      /* key length 8 + 1 byte of key + type 4 + a 1-byte value */
#define MIN_TENSOR_BYTES 33u  /* name length 8 + 1 byte + n_dims 4 + one dim 8 + type 4 + offset 8 */

static const char *const error_strings[GGUF_ERR_COUNT] = {
    "ok",
    "no GGUF bytes given",
    "not a GGUF file (the first 4 bytes are not \"GGUF\")",
    "unsupported GGUF version",
    "GGUF file cut short",
    "bad GGUF metadata key",
    "bad GGUF metadata value type",
    "GGUF metadata key has the wrong type",
    "bad GGUF alignment",
    "bad GGUF tensor name",
    "bad GGUF tensor dimensions",
    "bad GGUF tensor type",
    "misaligned GGUF tensor offset",
    "GGUF tensor data out of range",
    "GGUF tensors overlap",
    "too little memory for the GGUF index",
    "unsupported model architecture",
    "bad model hyper-parameter",
    "model tensor missing",
    "model tensor has the wrong shape",
    "model tensor type not supported yet",
};

const char *gguf_error_string(GgufError err)
{
    return (err >= 0 && err < GGUF_ERR_COUNT) ? error_strings[err] : "unknown GGUF error";
}

/* ---- the error line: "<sentence>: <details>" */

typedef struct {
    char *buf;
    size_t cap;
} Msg;

static void say(Msg *m, const char *s) { ec_str_append(m->buf, m->cap, s); }
static void say_u64(Msg *m, uint64_t v) { ec_str_append_u64(m->buf, m->cap, v); }

/* A name from the file, quoted; bytes outside printable ASCII become '?', long names are cut at 64. */
static void say_name(Msg *m, GgufStr s)
{
    char tmp[72];
    size_t n = 0;
    tmp[n++] = '"';
    for (uint64_t i = 0; i < s.len && i < 64; i++)
        tmp[n++] = (s.ptr[i] >= 32 && s.ptr[i] < 127) ? s.ptr[i] : '?';
    if (s.len > 64)
        tmp[n++] = '.', tmp[n++] = '.';
    tmp[n++] = '"';
    tmp[n] = 0;
    say(m, tmp);
}

static GgufError fail(Msg *m, GgufError e, const char *detail)
{
    if (m->buf && m->cap) {
        m->buf[0] = 0;
        say(m, gguf_error_string(e));
        if (detail)
            say(m, detail);
    }
    return e;
}

/* ---- bounded little-endian reads */

typedef struct {
    const uint8_t *b;
    size_t len, pos;
} Reader;

static const uint8_t *rd_take(Reader *r, uint64_t n)
{
    if (n > r->len - r->pos)
        return NULL;
    const uint8_t *p = r->b + r->pos;
    r->pos += (size_t)n;
    return p;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return le32(p) | (uint64_t)le32(p + 4) << 32; }

static int rd_u32(Reader *r, uint32_t *v)
{
    const uint8_t *p = rd_take(r, 4);
    if (p)
        *v = le32(p);
    return p != NULL;
}

static int rd_u64(Reader *r, uint64_t *v)
{
    const uint8_t *p = rd_take(r, 8);
    if (p)
        *v = le64(p);
    return p != NULL;
}

/* A string of 1..max bytes. Returns 0 cut short, -1 empty or too long (s->len says which). */
static int rd_str(Reader *r, GgufStr *s, uint64_t max)
{
    if (!rd_u64(r, &s->len))
        return 0;
    if (s->len == 0 || s->len > max)
        return -1;
    const uint8_t *p = rd_take(r, s->len);
    s->ptr = (const char *)p;
    return p != NULL;
}

/* Bytes of one value of a fixed-size type; 0 for strings and arrays (and unknown types). */
static uint32_t type_size(uint32_t t)
{
    static const uint8_t sizes[GGUF_TYPE_COUNT] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};
    return t < GGUF_TYPE_COUNT ? sizes[t] : 0;
}

static const char *const type_names[GGUF_TYPE_COUNT] = {
    "u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool", "string", "array", "u64", "i64", "f64",
};

/* ---- string order (bytes, then length; gguf_find.c's lookups agree) and an in-place heap sort of indices (no
 * recursion, no allocation) */

static int str_cmp(GgufStr a, GgufStr b)
{
    uint64_t n = a.len < b.len ? a.len : b.len;
    for (uint64_t i = 0; i < n; i++)
        if (a.ptr[i] != b.ptr[i])
            return (uint8_t)a.ptr[i] < (uint8_t)b.ptr[i] ? -1 : 1;
    return a.len < b.len ? -1 : a.len > b.len;
}

enum sort_by { BY_KEY, BY_NAME, BY_OFFSET };

static int less(const GgufFile *f, enum sort_by by, uint32_t a, uint32_t b)
{
    if (by == BY_KEY)
        return str_cmp(f->kv[a].key, f->kv[b].key) < 0;
    if (by == BY_NAME)
        return str_cmp(f->tensors[a].name, f->tensors[b].name) < 0;
    return f->tensors[a].offset < f->tensors[b].offset;
}

static void sift_down(const GgufFile *f, enum sort_by by, uint32_t *idx, uint64_t root, uint64_t n)
{
    for (;;) {
        uint64_t child = 2 * root + 1;
        if (child >= n)
            return;
        if (child + 1 < n && less(f, by, idx[child], idx[child + 1]))
            child++;
        if (!less(f, by, idx[root], idx[child]))
            return;
        uint32_t t = idx[root];
        idx[root] = idx[child];
        idx[child] = t;
        root = child;
    }
}

static void sort_idx(const GgufFile *f, enum sort_by by, uint32_t *idx, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++)
        idx[i] = (uint32_t)i;
    for (uint64_t i = n / 2; i-- > 0;)
        sift_down(f, by, idx, i, n);
    for (uint64_t end = n; end-- > 1;) {
        uint32_t t = idx[0];
        idx[0] = idx[end];
        idx[end] = t;
        sift_down(f, by, idx, 0, end);
    }
}

/* ---- memory */

/* Each entry takes bytes in the file, so counts the file cannot hold are refused before any memory is sized
 * (which also keeps indices inside 32 bits: an image would need 64 GiB to hold 2^32 entries). */
static int header_counts(const uint8_t *b, size_t len, uint64_t *n_tensors, uint64_t *n_kv)
{
    if (len < GGUF_HEADER_BYTES)
        return 0;
    *n_tensors = le64(b + 8);
    *n_kv = le64(b + 16);
    uint64_t room = len - GGUF_HEADER_BYTES;
    return *n_kv <= room / MIN_KV_BYTES && *n_tensors <= room / MIN_TENSOR_BYTES &&
           *n_kv * MIN_KV_BYTES + *n_tensors * MIN_TENSOR_BYTES <= room;
}

size_t gguf_mem_bytes(const void *bytes, size_t len)
{
    uint64_t nt, nkv;
    const uint8_t *b = bytes;
    if (!b || !header_counts(b, len, &nt, &nkv) || le32(b) != GGUF_MAGIC || (le32(b + 4) != 2 && le32(b + 4) != 3))
        return 0;
    /* kv entries, tensors, the by-name index, and one scratch index (keys, then offsets); 8 bytes of slack to
     * align the caller's block */
    uint64_t scratch = nkv > nt ? nkv : nt;
    return (size_t)(nkv * sizeof(GgufKV) + nt * sizeof(GgufTensor) + (nt + scratch) * sizeof(uint32_t) + 8);
}

/* ---- known keys and the types they must hold */

typedef struct {
    const char *key;
    uint32_t type, elem_type;
} KnownKey;

static const KnownKey known_keys[] = {
    {"general.architecture", GGUF_STRING, GGUF_STRING},
    {"general.name", GGUF_STRING, GGUF_STRING},
    {"general.alignment", GGUF_U32, GGUF_U32},
    {"general.file_type", GGUF_U32, GGUF_U32},
    {"general.quantization_version", GGUF_U32, GGUF_U32},
    {"tokenizer.ggml.model", GGUF_STRING, GGUF_STRING},
    {"tokenizer.ggml.tokens", GGUF_ARRAY, GGUF_STRING},
    {"tokenizer.ggml.scores", GGUF_ARRAY, GGUF_F32},
    {"tokenizer.ggml.token_type", GGUF_ARRAY, GGUF_I32},
    {"tokenizer.ggml.merges", GGUF_ARRAY, GGUF_STRING},
    {"tokenizer.ggml.bos_token_id", GGUF_U32, GGUF_U32},
    {"tokenizer.ggml.eos_token_id", GGUF_U32, GGUF_U32},
    {"tokenizer.ggml.unknown_token_id", GGUF_U32, GGUF_U32},
    {"tokenizer.ggml.padding_token_id", GGUF_U32, GGUF_U32},
};

static void say_type(Msg *m, uint32_t type, uint32_t elem)
{
    if (type == GGUF_ARRAY) {
        say(m, "array of ");
        say(m, type_names[elem]);
    } else {
        say(m, type_names[type]);
    }
}

static GgufError check_known_key(const GgufKV *kv, Msg *m)
{
    for (size_t i = 0; i < sizeof known_keys / sizeof known_keys[0]; i++) {
        const KnownKey *k = &known_keys[i];
        if (!gguf_str_eq(kv->key, k->key))
            continue;
        if (kv->type == k->type && kv->elem_type == k->elem_type)
            return GGUF_OK;
        fail(m, GGUF_ERR_KEY_TYPE, ": ");
        say(m, k->key);
        say(m, " must be ");
        say_type(m, k->type, k->elem_type);
        say(m, ", the file has ");
        say_type(m, kv->type, kv->elem_type);
        return GGUF_ERR_KEY_TYPE;
    }
    return GGUF_OK;
}

/* ---- the parts of the file */

static GgufError read_kv(Reader *r, GgufKV *kv, uint64_t i, Msg *m)
{
    int s = rd_str(r, &kv->key, GGUF_MAX_KEY);
    if (s <= 0) {
        fail(m, s ? GGUF_ERR_KEY : GGUF_ERR_TRUNCATED, s ? ": metadata entry " : ": in the key of metadata entry ");
        say_u64(m, i);
        if (s)
            say(m, kv->key.len ? " has a key longer than 255 bytes" : " has an empty key");
        return s ? GGUF_ERR_KEY : GGUF_ERR_TRUNCATED;
    }
    if (!rd_u32(r, &kv->type))
        goto cut;
    kv->elem_type = kv->type;
    kv->count = 1;
    if (kv->type == GGUF_ARRAY && (!rd_u32(r, &kv->elem_type) || !rd_u64(r, &kv->count)))
        goto cut;
    if (kv->type >= GGUF_TYPE_COUNT || kv->elem_type >= GGUF_TYPE_COUNT || kv->elem_type == GGUF_ARRAY) {
        fail(m, GGUF_ERR_VALUE_TYPE, ": key ");
        say_name(m, kv->key);
        if (kv->elem_type == GGUF_ARRAY) {
            say(m, " is an array of arrays, which this reader does not take");
        } else {
            say(m, " has type ");
            say_u64(m, kv->type >= GGUF_TYPE_COUNT ? kv->type : kv->elem_type);
        }
        return GGUF_ERR_VALUE_TYPE;
    }
    kv->data = r->b + r->pos;
    size_t start = r->pos;
    uint32_t size = type_size(kv->elem_type);
    if (size) {
        if (kv->count > (r->len - r->pos) / size || !rd_take(r, kv->count * size))
            goto cut;
    } else { /* strings: each one's length is checked before its bytes are skipped */
        if (kv->type == GGUF_ARRAY && kv->count > (r->len - r->pos) / 8)
            goto cut;
        for (uint64_t j = 0; j < kv->count; j++) {
            uint64_t n;
            if (!rd_u64(r, &n) || !rd_take(r, n))
                goto cut;
        }
    }
    kv->bytes = r->pos - start;
    if (gguf_str_eq(kv->key, "general.alignment") && kv->type == GGUF_U32) {
        uint32_t a = le32(kv->data);
        if (a == 0 || (a & (a - 1))) {
            fail(m, GGUF_ERR_ALIGNMENT, ": general.alignment is ");
            say_u64(m, a);
            say(m, ", not a power of two");
            return GGUF_ERR_ALIGNMENT;
        }
    }
    return check_known_key(kv, m);
cut:
    fail(m, GGUF_ERR_TRUNCATED, ": in the value of key ");
    say_name(m, kv->key);
    return GGUF_ERR_TRUNCATED;
}

static GgufError read_tensor_info(Reader *r, GgufTensor *t, uint64_t i, uint32_t alignment, Msg *m)
{
    int s = rd_str(r, &t->name, GGUF_MAX_TENSOR_NAME);
    if (s <= 0) {
        fail(m, s ? GGUF_ERR_TENSOR_NAME : GGUF_ERR_TRUNCATED, s ? ": tensor " : ": in the name of tensor ");
        say_u64(m, i);
        if (s)
            say(m, t->name.len ? " has a name longer than 63 bytes" : " has an empty name");
        return s ? GGUF_ERR_TENSOR_NAME : GGUF_ERR_TRUNCATED;
    }
    if (!rd_u32(r, &t->n_dims))
        goto cut;
    if (t->n_dims < 1 || t->n_dims > GGUF_MAX_DIMS) {
        fail(m, GGUF_ERR_DIMS, ": tensor ");
        say_name(m, t->name);
        say(m, " has ");
        say_u64(m, t->n_dims);
        say(m, " dimensions (1 to 4 allowed)");
        return GGUF_ERR_DIMS;
    }
    t->nel = 1;
    for (uint32_t d = 0; d < GGUF_MAX_DIMS; d++) {
        t->ne[d] = 1;
        if (d < t->n_dims && !rd_u64(r, &t->ne[d]))
            goto cut;
        if (t->ne[d] == 0 || t->ne[d] > (UINT64_C(1) << 63) / t->nel) {
            fail(m, GGUF_ERR_DIMS, ": tensor ");
            say_name(m, t->name);
            say(m, t->ne[d] ? " has more than 2^63 elements" : " has a zero dimension");
            return GGUF_ERR_DIMS;
        }
        t->nel *= t->ne[d];
    }
    uint64_t offset;
    if (!rd_u32(r, &t->type) || !rd_u64(r, &offset))
        goto cut;
    t->offset = offset;
    const DqType *ty = dq_type(t->type);
    if (ty && t->nel / ty->block > (UINT64_C(1) << 62) / ty->bytes) {
        fail(m, GGUF_ERR_DIMS, ": tensor ");
        say_name(m, t->name);
        say(m, " would take more than 2^62 bytes");
        return GGUF_ERR_DIMS;
    }
    if (!ty || t->ne[0] % ty->block) {
        fail(m, GGUF_ERR_TENSOR_TYPE, ": tensor ");
        say_name(m, t->name);
        if (!ty) {
            say(m, " has ggml type ");
            say_u64(m, t->type);
            say(m, ", which this reader does not know");
        } else {
            say(m, " has rows of ");
            say_u64(m, t->ne[0]);
            say(m, " elements, not a whole number of ");
            say(m, ty->name);
            say(m, " blocks of ");
            say_u64(m, ty->block);
        }
        return GGUF_ERR_TENSOR_TYPE;
    }
    t->bytes = t->nel / ty->block * ty->bytes;
    if (offset % alignment) {
        fail(m, GGUF_ERR_OFFSET, ": tensor ");
        say_name(m, t->name);
        say(m, " at offset ");
        say_u64(m, offset);
        say(m, ", alignment ");
        say_u64(m, alignment);
        return GGUF_ERR_OFFSET;
    }
    return GGUF_OK;
cut:
    fail(m, GGUF_ERR_TRUNCATED, ": in the info of tensor ");
    say_name(m, t->name);
    return GGUF_ERR_TRUNCATED;
}

/* Tensors lie inside the data section and share no byte; names are unique. */
static GgufError check_tensors(GgufFile *f, uint32_t *scratch, Msg *m)
{
    uint64_t avail = f->len - f->data_offset;
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        GgufTensor *t = &f->tensors[i];
        if (t->offset > avail || t->bytes > avail - t->offset) {
            fail(m, GGUF_ERR_RANGE, ": tensor ");
            say_name(m, t->name);
            say(m, " needs data bytes ");
            say_u64(m, t->offset);
            say(m, "..+");
            say_u64(m, t->bytes);
            say(m, ", the data section holds ");
            say_u64(m, avail);
            return GGUF_ERR_RANGE;
        }
        t->data = f->image + f->data_offset + t->offset;
    }
    sort_idx(f, BY_OFFSET, scratch, f->n_tensors);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        const GgufTensor *a = &f->tensors[scratch[i - 1]], *b = &f->tensors[scratch[i]];
        if (a->offset + a->bytes > b->offset) {
            fail(m, GGUF_ERR_OVERLAP, ": ");
            say_name(m, a->name);
            say(m, " and ");
            say_name(m, b->name);
            return GGUF_ERR_OVERLAP;
        }
    }
    sort_idx(f, BY_NAME, f->by_name, f->n_tensors);
    for (uint64_t i = 1; i < f->n_tensors; i++) {
        const GgufTensor *a = &f->tensors[f->by_name[i - 1]], *b = &f->tensors[f->by_name[i]];
        if (str_cmp(a->name, b->name) == 0) {
            fail(m, GGUF_ERR_TENSOR_NAME, ": two tensors are named ");
            say_name(m, b->name);
            return GGUF_ERR_TENSOR_NAME;
        }
    }
    return GGUF_OK;
}

GgufError gguf_open(GgufFile *f, const void *bytes, size_t len, void *mem, size_t mem_len, char *msg, size_t cap)
{
    Msg m = {msg, cap};
    if (msg && cap)
        msg[0] = 0;
    ec_memset(f, 0, sizeof *f);
    if (!bytes)
        return fail(&m, GGUF_ERR_NULL, NULL);
    const uint8_t *b = bytes;
    if (len < 4 || le32(b) != GGUF_MAGIC)
        return fail(&m, len < 4 ? GGUF_ERR_TRUNCATED : GGUF_ERR_MAGIC, len < 4 ? ": the magic needs 4 bytes" : NULL);
    if (len < GGUF_HEADER_BYTES) {
        fail(&m, GGUF_ERR_TRUNCATED, ": the header needs 24 bytes, the file has ");
        say_u64(&m, len);
        return GGUF_ERR_TRUNCATED;
    }
    f->version = le32(b + 4);
    if (f->version != 2 && f->version != 3) {
        if (f->version == 0x02000000u || f->version == 0x03000000u)
            return fail(&m, GGUF_ERR_VERSION, ": the file is big-endian; only little-endian GGUF is read");
        fail(&m, GGUF_ERR_VERSION, ": this build reads versions 2 and 3, the file says ");
        say_u64(&m, f->version);
        if (f->version == 1)
            say(&m, " (GGUF v1, 2023; convert it again with a current llama.cpp)");
        return GGUF_ERR_VERSION;
    }
    if (!header_counts(b, len, &f->n_tensors, &f->n_kv)) {
        fail(&m, GGUF_ERR_TRUNCATED, ": the header counts ");
        say_u64(&m, f->n_kv);
        say(&m, " metadata entries and ");
        say_u64(&m, f->n_tensors);
        say(&m, " tensors, more than ");
        say_u64(&m, len);
        say(&m, " bytes can hold");
        return GGUF_ERR_TRUNCATED;
    }
    size_t need = gguf_mem_bytes(bytes, len);
    if (!mem || mem_len < need) {
        fail(&m, GGUF_ERR_MEMORY, ": bytes needed ");
        say_u64(&m, need);
        return GGUF_ERR_MEMORY;
    }
    uint8_t *p = (uint8_t *)mem + ((8 - ((uintptr_t)mem & 7)) & 7);
    f->kv = (GgufKV *)p;
    p += f->n_kv * sizeof(GgufKV);
    f->tensors = (GgufTensor *)p;
    p += f->n_tensors * sizeof(GgufTensor);
    f->by_name = (uint32_t *)p;
    uint32_t *scratch = f->by_name + f->n_tensors;
    f->image = b;
    f->len = len;
    f->alignment = GGUF_DEFAULT_ALIGNMENT;

    Reader r = {b, len, GGUF_HEADER_BYTES};
    GgufError e;
    for (uint64_t i = 0; i < f->n_kv; i++) {
        ec_memset(&f->kv[i], 0, sizeof f->kv[i]);
        if ((e = read_kv(&r, &f->kv[i], i, &m)) != GGUF_OK)
            return e;
        if (gguf_str_eq(f->kv[i].key, "general.alignment"))
            f->alignment = le32(f->kv[i].data);
    }
    sort_idx(f, BY_KEY, scratch, f->n_kv);
    for (uint64_t i = 1; i < f->n_kv; i++)
        if (str_cmp(f->kv[scratch[i - 1]].key, f->kv[scratch[i]].key) == 0) {
            fail(&m, GGUF_ERR_KEY, ": the key ");
            say_name(&m, f->kv[scratch[i]].key);
            say(&m, " appears twice");
            return GGUF_ERR_KEY;
        }
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        ec_memset(&f->tensors[i], 0, sizeof f->tensors[i]);
        if ((e = read_tensor_info(&r, &f->tensors[i], i, f->alignment, &m)) != GGUF_OK)
            return e;
    }
    /* The data section starts at the next multiple of the alignment; a file with no tensors may end before. */
    uint64_t pad = (f->alignment - r.pos % f->alignment) % f->alignment;
    f->data_offset = r.pos + pad;
    if (f->data_offset > len) {
        if (f->n_tensors) {
            fail(&m, GGUF_ERR_TRUNCATED, ": the data section would start at byte ");
            say_u64(&m, f->data_offset);
            say(&m, ", past the end at ");
            say_u64(&m, len);
            return GGUF_ERR_TRUNCATED;
        }
        f->data_offset = len;
    }
    return check_tensors(f, scratch, &m);
}
