/* Hugging Face checkpoint directories (config.json + *.safetensors, sharded through
 * model.safetensors.index.json or one model.safetensors) as a source of the same model the
 * GGUF loader builds: the config becomes the GGUF keys of the matching architecture (an
 * in-memory GGUF without tensors, so model_load.c reads and checks hyperparameters one way),
 * and tensors are found by their GGUF names. Private to the runtime. */
#ifndef HY_RUNTIME_HF_CHECKPOINT_H
#define HY_RUNTIME_HF_CHECKPOINT_H

#include "hy_gguf.h"
#include "hy_safetensors.h"

#include <jansson.h>

#include <stdbool.h>

typedef struct hy_hf hy_hf;

/* Reads dir/config.json and opens the checkpoint's safetensors files. */
hy_status hy_hf_open(const char *dir, hy_hf **out);
void hy_hf_close(hy_hf *h);
/* The GGUF image of the config's hyperparameters (owned by h; no tensors). */
const hy_gguf *hy_hf_gguf(const hy_hf *h);
/* The tensor a GGUF name stands for (blk.3.attn_q.weight -> model.layers.3.self_attn.q_proj.
 * weight); HY_ENOTFOUND naming both names when absent. */
hy_status hy_hf_tensor(const hy_hf *h, const char *gguf_name, const hy_st_tensor **out);
/* Gemma stores RMSNorm weights as w and applies 1 + w (GGUF files store 1 + w). */
bool hy_hf_norm_plus_one(const hy_hf *h);
/* hf_config.c: the GGUF keys of architecture `arch` for the parsed config.json at path (of
 * the given model_type, whose FFN activation is act) into w; HY_EUNSUPPORTED naming the
 * config key the runtime does not follow. */
hy_status hy_hf_config_keys(const json_t *cfg, const char *model_type, const char *arch,
                            const char *act, const char *path, hy_gguf_writer *w);
/* SHA-256 over config.json and every safetensors file, in name order. */
hy_status hy_hf_sha256(const hy_hf *h, char hex[65]);

#endif
