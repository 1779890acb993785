/* Shards (`seam split`): a shard computes exactly what the whole model computes for its
 * layers, is written deterministically, and refuses the wrong range, parent or bytes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "format/safetensors.h"
#include "model/config.h"
#include "model/shard.h"
#include "seam.h"
#include "seam_net.h"
#include "test.h"
#include "util/error.h"

/* Runs case 0..n of a reference file through the whole model up to layer k, then the rest
 * both in the whole model and in `tail` (a shard [k, N) + head); the logits of the last row
 * must match bit for bit. */
static void check_tail_shard(const char *model_dir, const char *ref_path, seam_model *whole, seam_model *tail, int k) {
    seam_error err = {0};
    st_file ref;
    CHECKF(st_open(ref_path, &ref, &err) == SEAM_OK, "%s", err.message);
    const seam_model_info *in = seam_model_get_info(whole);
    int C = in->n_embd, V = in->vocab_size, N = in->n_layer;
    for (int ci = 0;; ci++) {
        char name[64];
        snprintf(name, sizeof name, "case%d.input_ids", ci);
        const st_tensor *ids_t = st_find(&ref, name);
        if (!ids_t) break;
        int T = (int)ids_t->shape[0];
        int32_t *ids = malloc((size_t)T * sizeof *ids);
        float *h = malloc((size_t)T * C * sizeof *h), *h2 = malloc((size_t)T * C * sizeof *h2);
        float *la = malloc((size_t)V * sizeof *la), *lb = malloc((size_t)V * sizeof *lb);
        memcpy(ids, ids_t->data, (size_t)T * 4);
        seam_context *cw = NULL, *ct = NULL;
        int ok = seam_context_new(whole, 0, 0, &cw, &err) == SEAM_OK && seam_context_new(tail, 0, 0, &ct, &err) == SEAM_OK &&
                 seam_embed(cw, ids, T, 0, h, &err) == SEAM_OK && seam_run_layers(cw, 0, k, h, T, 0, &err) == SEAM_OK;
        if (ok) memcpy(h2, h, (size_t)T * C * sizeof *h);
        float *last = h + (size_t)(T - 1) * C, *last2 = h2 + (size_t)(T - 1) * C;
        ok = ok && seam_run_layers(cw, k, N, h, T, 0, &err) == SEAM_OK && seam_final_norm(cw, last, 1, &err) == SEAM_OK &&
             seam_lm_head(cw, last, 1, la, &err) == SEAM_OK;
        ok = ok && seam_run_layers(ct, k, N, h2, T, 0, &err) == SEAM_OK && seam_final_norm(ct, last2, 1, &err) == SEAM_OK &&
             seam_lm_head(ct, last2, 1, lb, &err) == SEAM_OK;
        if (!ok) test_fail(__FILE__, __LINE__, "%s k=%d case %d: %s", model_dir, k, ci, err.message);
        else if (memcmp(la, lb, (size_t)V * sizeof *la) != 0)
            test_fail(__FILE__, __LINE__, "%s k=%d case %d: shard logits differ from the whole model's", model_dir, k, ci);
        /* Layers the shard does not hold are refused, not silently skipped. */
        if (ok && k > 0 && seam_run_layers(ct, k - 1, N, h2, 1, 0, &err) != SEAM_ERR_RANGE)
            test_fail(__FILE__, __LINE__, "%s k=%d: running layer %d on the shard was not refused", model_dir, k, k - 1);
        seam_context_free(cw);
        seam_context_free(ct);
        free(ids); free(h); free(h2); free(la); free(lb);
    }
    st_close(&ref);
}

static void split_every_k(const char *model, const char *ref) {
    seam_error err = {0};
    seam_model *whole = NULL;
    CHECKF(seam_model_open(fixture(model), &whole, &err) == SEAM_OK, "%s", err.message);
    char fp[65];
    CHECKF(seam_model_get_fingerprint(whole, fp, &err) == SEAM_OK, "%s", err.message);
    int N = seam_model_get_info(whole)->n_layer;
    for (int k = 0; k <= N; k++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/tail%d", test_tmpdir(), k);
        seam_shard_range r = {k, N, 0, 1, 0};
        seam_model *tail = NULL;
        int ok = seam_shard_write(fixture(model), &r, NULL, dir, &err) == SEAM_OK &&
                 seam_shard_verify(dir, &r, fp, 1, &err) == SEAM_OK && seam_model_open(dir, &tail, &err) == SEAM_OK &&
                 seam_model_check_shard(tail, &r, fp, &err) == SEAM_OK;
        if (!ok) { test_fail(__FILE__, __LINE__, "%s k=%d: %s", model, k, err.message); seam_model_close(tail); continue; }
        const seam_model_info *in = seam_model_get_info(tail);
        CHECK(in->layer_begin == k && in->layer_end == N && !in->has_embed && in->has_head);
        uint64_t predicted = 0, listed = 0;
        CHECK(seam_shard_size(fixture(model), &r, &predicted, &err) == SEAM_OK);
        CHECK(seam_shard_download_bytes(dir, &listed, NULL, &err) == SEAM_OK);
        CHECKF(predicted == listed, "seam_shard_size %llu != manifest %llu", (unsigned long long)predicted,
               (unsigned long long)listed);
        check_tail_shard(model, fixture(ref), whole, tail, k);
        /* A shard for another split point is refused. */
        seam_shard_range other = {k > 0 ? k - 1 : 0, N, 0, 1, 0};
        if (k > 0) {
            CHECK(seam_model_check_shard(tail, &other, fp, &err) == SEAM_ERR_RANGE);
            CHECK(seam_shard_verify(dir, &other, fp, 0, &err) == SEAM_ERR_RANGE);
        }
        seam_shard_range with_embed = {k, N, 1, 1, 0};
        CHECK(seam_model_check_shard(tail, &with_embed, NULL, &err) == SEAM_ERR_RANGE);
        seam_model_close(tail);
    }
    seam_model_close(whole);
}

TEST(split_tail_shard_matches_whole_model_tiny) { split_every_k("gpt2-tiny", "gpt2-tiny-ref/reference.safetensors"); }
TEST(split_tail_shard_matches_whole_model_wide_f16) {
    split_every_k("gpt2-wide-f16", "gpt2-wide-f16-ref/reference.safetensors");
}

/* The edge-head side: embeddings + [0, k) reproduce the whole model's hidden state. */
TEST(split_head_shard_matches_whole_model) {
    seam_error err = {0};
    seam_model *whole = NULL;
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &whole, &err) == SEAM_OK, "%s", err.message);
    int N = 4, C = 64, T = 5;
    int32_t ids[5] = {464, 2068, 7586, 21831, 18045};
    for (int k = 0; k <= N; k++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/head%d", test_tmpdir(), k);
        seam_shard_range r = {0, k, 1, k == N, 0};
        seam_model *hm = NULL;
        seam_context *cw = NULL, *ch = NULL;
        float a[5 * 64], b[5 * 64];
        int ok = seam_shard_write(fixture("gpt2-tiny"), &r, NULL, dir, &err) == SEAM_OK &&
                 seam_model_open(dir, &hm, &err) == SEAM_OK && seam_context_new(whole, 16, 0, &cw, &err) == SEAM_OK &&
                 seam_context_new(hm, 16, 0, &ch, &err) == SEAM_OK && seam_embed(cw, ids, T, 0, a, &err) == SEAM_OK &&
                 seam_run_layers(cw, 0, k, a, T, 0, &err) == SEAM_OK && seam_embed(ch, ids, T, 0, b, &err) == SEAM_OK &&
                 seam_run_layers(ch, 0, k, b, T, 0, &err) == SEAM_OK;
        if (!ok) test_fail(__FILE__, __LINE__, "k=%d: %s", k, err.message);
        else if (memcmp(a, b, sizeof(float) * (size_t)T * (size_t)C) != 0) test_fail(__FILE__, __LINE__, "k=%d differs", k);
        seam_context_free(cw);
        seam_context_free(ch);
        seam_model_close(hm);
    }
    seam_model_close(whole);
}

/* Same parent and range give byte-identical shards (their sha256 is the HTTP ETag). */
TEST(split_is_deterministic_and_drops_mask_buffers) {
    seam_error err = {0};
    const char *t = test_tmpdir();
    char a[600], b[600];
    snprintf(a, sizeof a, "%s/a", t);
    snprintf(b, sizeof b, "%s/b", t);
    seam_shard_range r = {1, 2, 0, 0, 0};
    CHECK(seam_shard_write(fixture("gpt2-wide-f16"), &r, NULL, a, &err) == SEAM_OK);
    CHECK(seam_shard_write(fixture("gpt2-wide-f16"), &r, NULL, b, &err) == SEAM_OK);
    seam_shard_manifest ma, mb;
    CHECK(seam_shard_manifest_read(a, &ma, &err) == SEAM_OK && seam_shard_manifest_read(b, &mb, &err) == SEAM_OK);
    CHECK(ma.n_files == 2 && mb.n_files == 2); /* no tokenizer: the wide fixture has none */
    for (int i = 0; i < ma.n_files; i++) CHECK(strcmp(ma.files[i].sha256, mb.files[i].sha256) == 0);
    seam_model *m = NULL;
    CHECKF(seam_model_open(a, &m, &err) == SEAM_OK, "%s", err.message);
    seam_tensor_info ti;
    for (size_t i = 0; seam_model_tensor(m, i, &ti); i++) {
        CHECKF(strncmp(ti.name, "h.1.", 4) == 0, "unexpected tensor %s", ti.name);
        CHECKF(strcmp(ti.name, "h.1.attn.bias") != 0, "mask buffer kept");
    }
    seam_model_close(m);
}

/* Damaged or mismatched shards are refused with a clear error. */
TEST(split_refuses_damage_and_wrong_parent) {
    seam_error err = {0};
    const char *t = test_tmpdir();
    char dir[600], path[700];
    snprintf(dir, sizeof dir, "%s/s", t);
    seam_shard_range r = {3, 4, 0, 1, 0};
    CHECK(seam_shard_write(fixture("gpt2-tiny"), &r, NULL, dir, &err) == SEAM_OK);
    CHECK(seam_shard_verify(dir, &r, NULL, 1, &err) == SEAM_OK);
    CHECK(seam_shard_verify(dir, &r, "0000000000000000000000000000000000000000000000000000000000000000", 0, &err) ==
          SEAM_ERR_RANGE);
    CHECKF(strstr(err.message, "not of") != NULL, "%s", err.message);
    seam_model *m = NULL;
    CHECK(seam_model_open(dir, &m, &err) == SEAM_OK);
    CHECK(seam_model_check_shard(m, &r, "1111111111111111111111111111111111111111111111111111111111111111", &err) ==
          SEAM_ERR_RANGE);
    seam_model_close(m);
    /* flip one byte in the weights: sizes still match, the hash does not */
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    fseek(f, 5000, SEEK_SET);
    int c = fgetc(f);
    fseek(f, 5000, SEEK_SET);
    fputc(c ^ 0x40, f);
    fclose(f);
    CHECK(seam_shard_verify(dir, &r, NULL, 0, &err) == SEAM_OK);
    CHECK(seam_shard_verify(dir, &r, NULL, 1, &err) == SEAM_ERR_FORMAT);
    CHECKF(strstr(err.message, "sha256") != NULL, "%s", err.message);
    /* a splitting request the model cannot give */
    seam_shard_range bad[] = {{0, 5, 0, 0, 0}, {1, 2, 1, 0, 0}, {1, 3, 0, 1, 0}, {2, 2, 0, 0, 0}, {3, 2, 0, 0, 0}, {3, 4, 0, 1, 5}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECKF(seam_shard_write(fixture("gpt2-tiny"), &bad[i], NULL, dir, &err) == SEAM_ERR_ARG, "bad range %zu", i);
    /* a folder without its manifest is not a shard */
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    remove(path);
    CHECK(seam_shard_verify(dir, NULL, NULL, 0, &err) == SEAM_ERR_IO);
}

/* config.json's seam_shard section is validated like every other field. */
TEST(split_config_section_validated) {
    static const char *const bad[] = {
        "{\"format\":1,\"layer_begin\":0,\"layer_end\":3,\"has_embed\":true,\"has_head\":true,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":1,\"layer_end\":2,\"has_embed\":true,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":0,\"layer_end\":1,\"has_embed\":false,\"has_head\":true,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":2,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":1,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":2,\"layer_begin\":0,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":-1,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":0,\"layer_end\":1,\"has_embed\":1,\"has_head\":false,\"parent_fingerprint\":\"%s\"}",
        "{\"format\":1,\"layer_begin\":0,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%sX\"}",
        "{\"format\":1,\"layer_begin\":0,\"layer_end\":1,\"has_embed\":false,\"has_head\":false,\"parent_fingerprint\":\"%s\",\"quant\":\"q2\"}",
        "[]",
    };
    const char *fp = "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789";
    char sec[512], cfg[1024];
    seam_config c;
    seam_error err = {0};
    const char *head = "{\"model_type\":\"gpt2\",\"n_embd\":8,\"n_layer\":2,\"n_head\":2,\"n_positions\":8,\"vocab_size\":10,";
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        /* bad[i] with its one "%s" replaced by fp */
        const char *at = strstr(bad[i], "%s");
        if (at) snprintf(sec, sizeof sec, "%.*s%s%s", (int)(at - bad[i]), bad[i], fp, at + 2);
        else snprintf(sec, sizeof sec, "%s", bad[i]);
        snprintf(cfg, sizeof cfg, "%s\"seam_shard\":%s}", head, sec);
        CHECKF(seam_config_parse(cfg, strlen(cfg), &c, &err) != SEAM_OK, "accepted bad section %zu", i);
    }
    snprintf(cfg, sizeof cfg,
             "%s\"seam_shard\":{\"format\":1,\"layer_begin\":1,\"layer_end\":2,\"has_embed\":false,\"has_head\":true,"
             "\"parent_fingerprint\":\"%s\",\"quant\":null}}",
             head, fp);
    CHECKF(seam_config_parse(cfg, strlen(cfg), &c, &err) == SEAM_OK, "%s", err.message);
    CHECK(c.is_shard && c.info.layer_begin == 1 && c.info.layer_end == 2 && !c.info.has_embed && c.info.has_head);
    CHECK(strcmp(c.shard_parent, fp) == 0);
}

/* A quantised shard loads, keeps the parent's fingerprint, and stays close to the f32 one. */
TEST(split_quantised_shard_runs) {
    seam_error err = {0};
    seam_model *whole = NULL, *q = NULL;
    char dir[600], fp[65];
    snprintf(dir, sizeof dir, "%s/q8", test_tmpdir());
    seam_shard_range r = {2, 4, 0, 1, 8};
    CHECKF(seam_model_open(fixture("gpt2-tiny"), &whole, &err) == SEAM_OK, "%s", err.message);
    CHECK(seam_model_get_fingerprint(whole, fp, &err) == SEAM_OK);
    int ok = seam_shard_write(fixture("gpt2-tiny"), &r, NULL, dir, &err) == SEAM_OK &&
             seam_shard_verify(dir, &r, fp, 1, &err) == SEAM_OK && seam_model_open(dir, &q, &err) == SEAM_OK &&
             seam_model_check_shard(q, &r, fp, &err) == SEAM_OK;
    if (!ok) { test_fail(__FILE__, __LINE__, "%s", err.message); seam_model_close(whole); seam_model_close(q); return; }
    seam_shard_manifest man;
    CHECK(seam_shard_manifest_read(dir, &man, &err) == SEAM_OK && man.range.quant == 8 && !strcmp(man.quant, "q8"));
    int32_t ids[6] = {464, 2068, 7586, 21831, 18045, 625};
    float h[6 * 64], h2[6 * 64], *la = malloc(50257 * sizeof *la), *lb = malloc(50257 * sizeof *lb);
    seam_context *cw = NULL, *cq = NULL;
    ok = seam_context_new(whole, 16, 0, &cw, &err) == SEAM_OK && seam_context_new(q, 16, 0, &cq, &err) == SEAM_OK &&
         seam_embed(cw, ids, 6, 0, h, &err) == SEAM_OK && seam_run_layers(cw, 0, 2, h, 6, 0, &err) == SEAM_OK;
    memcpy(h2, h, sizeof h);
    ok = ok && seam_run_layers(cw, 2, 4, h, 6, 0, &err) == SEAM_OK && seam_final_norm(cw, h + 5 * 64, 1, &err) == SEAM_OK &&
         seam_lm_head(cw, h + 5 * 64, 1, la, &err) == SEAM_OK && seam_run_layers(cq, 2, 4, h2, 6, 0, &err) == SEAM_OK &&
         seam_final_norm(cq, h2 + 5 * 64, 1, &err) == SEAM_OK && seam_lm_head(cq, h2 + 5 * 64, 1, lb, &err) == SEAM_OK;
    double num = 0, den = 0;
    for (int v = 0; ok && v < 50257; v++) { num += (la[v] - lb[v]) * (double)(la[v] - lb[v]); den += (double)la[v] * la[v]; }
    if (!ok) test_fail(__FILE__, __LINE__, "%s", err.message);
    else CHECKF(num / den < 1e-3, "q8 shard logits rel. squared error %g", num / den);
    /* A plain shard is not a q8 one: the cache keeps them apart by name, verify by content. */
    seam_shard_range plain = {2, 4, 0, 1, 0};
    CHECK(seam_shard_verify(dir, &plain, fp, 0, &err) == SEAM_OK); /* holds the layers; quant is informational */
    free(la);
    free(lb);
    seam_context_free(cw);
    seam_context_free(cq);
    seam_model_close(q);
    seam_model_close(whole);
}
