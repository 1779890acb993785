/* The smallest complete use of the library: greedy continuation of a prompt.
 *   cc greedy.c $(pkg-config --cflags --libs --static seam) -o greedy
 *   ./greedy MODEL_DIR "Hello, my name is" 16 */
#include <seam.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv) {
    if (argc < 4) { fprintf(stderr, "usage: %s MODEL_DIR PROMPT N\n", argv[0]); return 2; }
    seam_error err = {0};
    seam_model *m = NULL;
    seam_tokenizer *tok = NULL;
    seam_context *c = NULL;
    if (seam_model_open(argv[1], &m, &err) || seam_tokenizer_open(argv[1], &tok, &err) ||
        seam_context_new(m, 0, 0, &c, &err)) {
        fprintf(stderr, "error: %s\n", err.message);
        return 1;
    }
    const seam_model_info *info = seam_model_get_info(m);
    int32_t ids[1024];
    size_t n = 0;
    if (seam_tokenize(tok, argv[2], strlen(argv[2]), ids, 1024, &n, &err) || n == 0) {
        fprintf(stderr, "error: %s\n", n ? err.message : "empty prompt");
        return 1;
    }
    float *logits = malloc(sizeof(float) * (size_t)info->vocab_size);
    int steps = atoi(argv[3]), pos = 0;
    seam_status s = seam_forward(c, ids, (int)n, 0, logits, &err);
    pos = (int)n;
    for (int i = 0; i < steps && s == SEAM_OK; i++) {
        int32_t next = seam_argmax(logits, info->vocab_size);
        printf("%d%s", next, i + 1 < steps ? "," : "\n");
        s = seam_forward(c, &next, 1, pos++, logits, &err);
    }
    if (s) fprintf(stderr, "error: %s\n", err.message);
    free(logits);
    seam_context_free(c);
    seam_tokenizer_close(tok);
    seam_model_close(m);
    return s ? 1 : 0;
}
