"""Malformed GGUF files: each one is refused with its own error line, and the reader neither crashes nor reads
outside the image (formats-tool is built with ASan/UBSan and reads an exact-size copy). The first group breaks
the container (gguf_open), the second makes a sound GGUF that is not a runnable llama/qwen2 (gguf_llama_config).
"""
import os, struct, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from formatscheck import case, exit_code, expect_error, tool  # noqa: E402
from gguf_write import *  # noqa: E402,F401,F403
from test_gguf import llama_file  # noqa: E402  (only defines; its checks run under __main__ below)


def base(kv=None, tensors=None, **kw):
    kv = [("general.architecture", STRING, "llama"), ("general.name", STRING, "m")] if kv is None else kv
    tensors = [Tensor("a", F32, [8], bytes(32)), Tensor("b", Q8_0, [32, 2], bytes(68))] if tensors is None else tensors
    return gguf_bytes(kv, tensors, **kw)


def patched(data, fmt, at, value):
    b = bytearray(data)
    struct.pack_into(fmt, b, at, value)
    return bytes(b)


good = base()
one = base(tensors=[Tensor("w", F32, [4], bytes(16))])
one_unpadded = base(tensors=[Tensor("w", F32, [4], bytes(16))], pad_data=False)
infos = len(base(tensors=[], pad_data=False))  # where the tensor infos start
infos_end = len(one_unpadded) - 32  # the data (16 bytes) is written padded to 32
assert infos_end % 32, "the cut must fall before an alignment boundary"
first_value = 24 + 8 + len("general.architecture") + 4  # where the first kv's value starts
CONTAINER = [
    ("empty", b"", "GGUF file cut short: the magic needs 4 bytes"),
    ("bad_magic", b"GGUG" + good[4:], "not a GGUF file"),
    ("header_cut", good[:20], "GGUF file cut short: the header needs 24 bytes, the file has 20"),
    ("version_1", patched(good, "<I", 4, 1), "unsupported GGUF version: this build reads versions 2 and 3, the file "
     "says 1 (GGUF v1"),
    ("version_4", patched(good, "<I", 4, 4), "the file says 4"),
    ("big_endian", patched(good, ">I", 4, 3), "the file is big-endian"),
    ("kv_count_huge", patched(good, "<Q", 16, 2 ** 60), "GGUF file cut short: the header counts 1152921504606846976 "
     "metadata entries"),
    ("tensor_count_huge", patched(good, "<Q", 8, 2 ** 40), "tensors, more than"),
    ("key_longer_than_255", patched(good, "<Q", 24, 300), "metadata entry 0 has a key longer than 255 bytes"),
    ("key_past_end", patched(base(kv=[("k" * 200, U8, 1)], tensors=[]), "<Q", 24, 250),
     "GGUF file cut short: in the key of metadata entry 0"),
    ("empty_key", base(kv=[("", U8, 1)]), "metadata entry 0 has an empty key"),
    ("duplicate_key", base(kv=[("x.y", U8, 1), ("general.name", STRING, "m"), ("x.y", U32, 2)]),
     "bad GGUF metadata key: the key \"x.y\" appears twice"),
    ("value_type_13", patched(good, "<I", first_value - 4, 13), "bad GGUF metadata value type: key "
     "\"general.architecture\" has type 13"),
    ("array_of_arrays", base(kv=[("x", ARRAY, (U8, []))]).replace(struct.pack("<IIQ", ARRAY, U8, 0),
                                                                     struct.pack("<IIQ", ARRAY, ARRAY, 0)),
     "is an array of arrays"),
    ("array_count_past_end", base(kv=[("x", ARRAY, (U32, [1, 2]))]).replace(struct.pack("<IQ", U32, 2),
                                                                           struct.pack("<IQ", U32, 2 ** 62)),
     "GGUF file cut short: in the value of key \"x\""),
    ("string_in_array_past_end", base(kv=[("x", ARRAY, (STRING, ["ab", "cd"]))]).replace(
        gguf_string("cd"), struct.pack("<Q", 2 ** 50) + b"cd"), "in the value of key \"x\""),
    ("string_value_past_end", patched(good, "<Q", first_value, 10 ** 6), "in the value of key \"general.architecture\""),
    ("alignment_zero", base(kv=[("general.alignment", U32, 0)]), "bad GGUF alignment: general.alignment is 0, not a "
     "power of two"),
    ("alignment_48", base(kv=[("general.alignment", U32, 48)], alignment=48), "general.alignment is 48"),
    ("alignment_as_string", base(kv=[("general.alignment", STRING, "32")]), "GGUF metadata key has the wrong type: "
     "general.alignment must be u32, the file has string"),
    ("architecture_as_u32", base(kv=[("general.architecture", U32, 1)]), "general.architecture must be string, the "
     "file has u32"),
    ("tokens_as_u32_array", base(kv=[("tokenizer.ggml.tokens", ARRAY, (U32, [1]))]), "tokenizer.ggml.tokens must be "
     "array of string, the file has array of u32"),
    ("scores_as_f64_array", base(kv=[("tokenizer.ggml.scores", ARRAY, (F64, [1.0]))]), "tokenizer.ggml.scores must "
     "be array of f32"),
    ("tensor_name_empty", base(tensors=[Tensor("", F32, [4], bytes(16))]), "tensor 0 has an empty name"),
    ("tensor_name_64_bytes", base(tensors=[Tensor("n" * 64, F32, [4], bytes(16))]), "tensor 0 has a name longer "
     "than 63 bytes"),
    ("duplicate_tensor_name", base(tensors=[Tensor("w", F32, [4], bytes(16)), Tensor("w", F32, [4], bytes(16))]),
     "bad GGUF tensor name: two tensors are named \"w\""),
    ("n_dims_0", base(tensors=[Tensor("w", F32, [4], bytes(16), n_dims=0)]), "tensor \"w\" has 0 dimensions"),
    ("n_dims_5", base(tensors=[Tensor("w", F32, [1, 1, 1, 1, 4], bytes(16))]), "tensor \"w\" has 5 dimensions "
     "(1 to 4 allowed)"),
    ("zero_dimension", base(tensors=[Tensor("w", F32, [4, 0], b"")]), "tensor \"w\" has a zero dimension"),
    ("element_count_overflow", base(tensors=[Tensor("w", F32, [2 ** 32, 2 ** 32], bytes(16))]),
     "tensor \"w\" has more than 2^63 elements"),
    ("byte_count_overflow", base(tensors=[Tensor("w", F32, [2 ** 31, 2 ** 31], bytes(16))]),
     "tensor \"w\" would take more than 2^62 bytes"),
    ("tensor_type_99", base(tensors=[Tensor("w", 99, [4], bytes(16))]), "bad GGUF tensor type: tensor \"w\" has "
     "ggml type 99, which this reader does not know"),
    ("tensor_type_iq2_xxs", base(tensors=[Tensor("w", 16, [256], bytes(66))]), "has ggml type 16"),
    ("row_not_whole_blocks", base(tensors=[Tensor("w", Q4_K, [100, 2], bytes(288))]), "tensor \"w\" has rows of 100 "
     "elements, not a whole number of Q4_K blocks of 256"),
    ("misaligned_offset", base(tensors=[Tensor("w", F32, [4], bytes(16), offset=4)]), "misaligned GGUF tensor "
     "offset: tensor \"w\" at offset 4, alignment 32"),
    ("offset_out_of_range", base(tensors=[Tensor("w", F32, [4], bytes(16), info_offset=2 ** 40)]), "GGUF tensor data out of range: tensor \"w\" "
     "needs data bytes 1099511627776..+16"),
    ("offset_near_2_64", base(tensors=[Tensor("w", F32, [4], bytes(16), info_offset=2 ** 64 - 32)]),
     "GGUF tensor data out of range"),
    ("overlap", base(tensors=[Tensor("a", F32, [16], bytes(64)), Tensor("b", F32, [4], bytes(16), offset=32)]),
     "GGUF tensors overlap: \"a\" and \"b\""),
    ("data_cut", good[:-40], "GGUF tensor data out of range: tensor \"b\""),
    ("tensor_name_cut", one[:infos + 5], "GGUF file cut short: in the name of tensor 0"),
    ("tensor_dims_cut", one[:infos + 8 + 1 + 4 + 3], "GGUF file cut short: in the info of tensor \"w\""),
    ("data_section_past_end", one_unpadded[:infos_end], f"the data section would start at byte "
     f"{-(-infos_end // 32) * 32}, past the end at {infos_end}"),
]

CONFIG = [
    ("unknown_architecture", dict(arch="gemma"), "unsupported model architecture: this build runs llama and qwen2, "
     "the file is gemma"),
    ("missing_tensor", dict(drop=("blk.1.ffn_up.weight",)), "model tensor missing: blk.1.ffn_up.weight"),
    ("qwen2_missing_bias", dict(arch="qwen2", drop=("blk.0.attn_q.bias",)), "model tensor missing: blk.0.attn_q.bias"),
    ("wrong_shape", dict(override={"blk.0.attn_k.weight": (F32, [64, 64])}), "model tensor has the wrong shape: "
     "blk.0.attn_k.weight has shape (64, 64), the hyper-parameters say (64, 32)"),
    ("embedding_vs_vocab", dict(override={"token_embd.weight": (F32, [64, 41])}), "token_embd.weight has shape "
     "(64, 41), the hyper-parameters say (64, 40)"),
    ("q5_k_tensor", dict(C=256, H=256, NH=8, NKV=8, override={"blk.0.ffn_up.weight": (Q5_K, [256, 256])}),
     "model tensor type not supported yet: blk.0.ffn_up.weight is Q5_K"),
    ("missing_embedding_length", dict(skip_kv=("embedding_length",)), "bad model hyper-parameter: "
     "llama.embedding_length is missing"),
    ("block_count_u64", dict(skip_kv=("block_count",), extra_kv=[("llama.block_count", U64, 2)]),
     "GGUF metadata key has the wrong type: llama.block_count must be u32"),
    ("heads_not_multiple_of_kv", dict(NKV=3), "head_count 4 is not a multiple of head_count_kv 3"),
    ("kv_heads_above_heads", dict(NKV=8), "llama.attention.head_count_kv is 8, outside 1..4"),
    ("rms_eps_nan", dict(skip_kv=("attention.layer_norm_rms_epsilon",),
                         extra_kv=[("llama.attention.layer_norm_rms_epsilon", F32V, float("nan"))]),
     "llama.attention.layer_norm_rms_epsilon must be positive and finite"),
    ("no_vocabulary", dict(skip_kv=("tokenizer.ggml.tokens",)), "tokenizer.ggml.tokens (the vocabulary) is missing"),
    ("scores_count", dict(skip_kv=("tokenizer.ggml.scores",),
                          extra_kv=[("tokenizer.ggml.scores", ARRAY, (F32V, [0.0] * 39))]),
     "tokenizer.ggml.scores holds 39 entries for 40 tokens"),
    ("token_type_count", dict(skip_kv=("tokenizer.ggml.token_type",),
                              extra_kv=[("tokenizer.ggml.token_type", ARRAY, (I32, [1] * 41))]),
     "tokenizer.ggml.token_type holds 41 entries for 40 tokens"),
    ("eos_past_vocab", dict(skip_kv=("tokenizer.ggml.eos_token_id",),
                            extra_kv=[("tokenizer.ggml.eos_token_id", U32, 40)]),
     "tokenizer.ggml.eos_token_id is 40, past the vocabulary of 40"),
    ("vocab_size_disagrees", dict(extra_kv=[("llama.vocab_size", U32, 41)]), "llama.vocab_size is 41, outside 40..40"),
    ("partial_rope", dict(extra_kv=[("llama.rope.dimension_count", U32, 8)]), "llama.rope.dimension_count is 8, "
     "outside 16..16"),
]

with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "good.gguf")
    open(path, "wb").write(good)
    rc, out = tool("gguf", path)
    case(rc == 0, "malformed_base_file_is_good", out)
    for name, data, expected in CONTAINER:
        path = os.path.join(d, name + ".gguf")
        open(path, "wb").write(data)
        expect_error(f"gguf_refuses_{name}", path, "gguf", expected)
    for name, kw, expected in CONFIG:
        path = os.path.join(d, name + ".gguf")
        open(path, "wb").write(llama_file(**kw))
        rc, out = tool("gguf", path)
        line = next((l for l in out.splitlines() if l.startswith("config error: ")), "")
        case(rc == 0 and expected in line, f"config_refuses_{name}", f"status {rc}, wanted '{expected}', got "
             f"{line or out[-300:]!r}")

sys.exit(exit_code())
