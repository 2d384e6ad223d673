/* classify.c - classifies images with libbnn.so: prints each image's class and logits.
 * Usage: classify MODEL.bnnx IMAGES-idx3-ubyte [COUNT]
 * IMAGES is an MNIST-format IDX image file (magic 0x00000803, unsigned bytes); pixels are normalized like MNIST training.
 * Build: gcc -O2 -Inative/include native/example/classify.c -Lout -lbnn -Wl,-rpath,'$ORIGIN' -o out/classify
 */
#include <stdio.h>
#include <stdlib.h>
#include "bnn.h"

static unsigned read_be32(const unsigned char* p)
{
    return ((unsigned)p[0] << 24) | ((unsigned)p[1] << 16) | ((unsigned)p[2] << 8) | (unsigned)p[3];
}

int main(int argc, char** argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s MODEL.bnnx IMAGES-idx3-ubyte [COUNT]\n", argv[0]);
        return 2;
    }

    bnn_model* model = bnn_load_file(argv[1]);
    if (model == NULL) {
        fprintf(stderr, "error: %s\n", bnn_last_error());
        return 1;
    }

    FILE* file = fopen(argv[2], "rb");
    unsigned char header[16];
    if (file == NULL || fread(header, 1, sizeof header, file) != sizeof header || read_be32(header) != 0x00000803u) {
        fprintf(stderr, "error: %s: cannot open it or not an IDX image file\n", argv[2]);
        bnn_free(model);
        return 1;
    }

    int count = (int)read_be32(header + 4);
    int pixels = (int)(read_be32(header + 8) * read_be32(header + 12));
    if (argc > 3 && atoi(argv[3]) < count) count = atoi(argv[3]);
    int inputs = bnn_input_length(model), outputs = bnn_output_length(model);
    if (pixels != inputs) {
        fprintf(stderr, "error: %s: images have %d pixels but the model takes %d floats\n", argv[2], pixels, inputs);
        fclose(file);
        bnn_free(model);
        return 1;
    }

    unsigned char* raw = malloc((size_t)count * pixels);
    float* input = malloc((size_t)count * pixels * sizeof(float));
    float* logits = malloc((size_t)count * outputs * sizeof(float));
    int* classes = malloc((size_t)count * sizeof(int));
    if (raw == NULL || input == NULL || logits == NULL || classes == NULL || fread(raw, 1, (size_t)count * pixels, file) != (size_t)count * pixels) {
        fprintf(stderr, "error: %s: out of memory or the file is shorter than its header says\n", argv[2]);
        return 1;
    }
    fclose(file);

    for (size_t i = 0; i < (size_t)count * pixels; i++) input[i] = (raw[i] / 255.0f - 0.1307f) / 0.3081f;

    int status = 0;
    if (bnn_classify(model, input, count, classes) != 0 || bnn_predict(model, input, count, logits) != 0) {
        fprintf(stderr, "error: %s\n", bnn_last_error());
        status = 1;
    } else {
        for (int i = 0; i < count; i++) {
            printf("%d", classes[i]);
            for (int j = 0; j < outputs; j++) printf(" %.9g", logits[(size_t)i * outputs + j]);
            printf("\n");
        }
    }

    free(raw);
    free(input);
    free(logits);
    free(classes);
    bnn_free(model);
    return status;
}
