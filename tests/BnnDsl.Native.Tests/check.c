/* check.c - drives every libbnn.so entry point for NativeLibraryTests; prints results for the test to compare.
 *   check run MODEL INPUT.f32 COUNT  : loads MODEL from file and from memory; prints lengths, classes and logits of both
 *   check load PATH                  : prints "null <bnn_last_error>" or "ok" for bnn_load_file and bnn_load_memory
 *   check args MODEL                 : NULL handle, NULL buffers and a negative count each return -1 with a message
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "bnn.h"

static unsigned char* read_all(const char* path, size_t* length)
{
    FILE* file = fopen(path, "rb");
    if (file == NULL) return NULL;
    fseek(file, 0, SEEK_END);
    long size = ftell(file);
    fseek(file, 0, SEEK_SET);
    unsigned char* data = malloc(size > 0 ? (size_t)size : 1);
    *length = fread(data, 1, (size_t)size, file);
    fclose(file);
    return data;
}

static int run(bnn_model* model, const char* label, const float* input, int count)
{
    int inputs = bnn_input_length(model), outputs = bnn_output_length(model);
    float* logits = malloc((size_t)count * outputs * sizeof(float));
    int* classes = malloc((size_t)count * sizeof(int));
    if (bnn_predict(model, input, count, logits) != 0 || bnn_classify(model, input, count, classes) != 0) {
        printf("%s error %s\n", label, bnn_last_error());
        return 1;
    }
    printf("%s lengths %d %d error '%s'\n", label, inputs, outputs, bnn_last_error());
    for (int i = 0; i < count; i++) {
        printf("%s %d", label, classes[i]);
        for (int j = 0; j < outputs; j++) printf(" %.9g", logits[(size_t)i * outputs + j]);
        printf("\n");
    }
    free(logits);
    free(classes);
    return 0;
}

int main(int argc, char** argv)
{
    if (argc == 5 && strcmp(argv[1], "run") == 0) {
        size_t model_length, input_length;
        unsigned char* bytes = read_all(argv[2], &model_length);
        float* input = (float*)read_all(argv[3], &input_length);
        int count = atoi(argv[4]);
        bnn_model* from_file = bnn_load_file(argv[2]);
        bnn_model* from_memory = bytes == NULL ? NULL : bnn_load_memory(bytes, model_length);
        free(bytes);
        if (from_file == NULL || from_memory == NULL || input == NULL) {
            printf("load error %s\n", bnn_last_error());
            return 1;
        }
        int status = run(from_file, "file", input, count) | run(from_memory, "memory", input, count);
        bnn_free(from_file);
        bnn_free(from_memory);
        free(input);
        return status;
    }
    if (argc == 3 && strcmp(argv[1], "load") == 0) {
        bnn_model* model = bnn_load_file(argv[2]);
        if (model == NULL) printf("file null %s\n", bnn_last_error()); else printf("file ok\n");
        bnn_free(model);
        size_t length = 0;
        unsigned char* bytes = read_all(argv[2], &length);
        model = bnn_load_memory(bytes, length);
        if (model == NULL) printf("memory null %s\n", bnn_last_error()); else printf("memory ok\n");
        bnn_free(model);
        free(bytes);
        return 0;
    }
    if (argc == 3 && strcmp(argv[1], "args") == 0) {
        float input[1] = { 0 };
        int classes[1];
        bnn_model* model = bnn_load_file(argv[2]);
        printf("negative_count %d %s\n", bnn_classify(model, input, -1, classes), bnn_last_error());
        printf("null_input %d %s\n", bnn_classify(model, NULL, 1, classes), bnn_last_error());
        printf("zero_count %d '%s'\n", bnn_classify(model, NULL, 0, NULL), bnn_last_error());
        bnn_free(model);
        printf("input_length %d\n", bnn_input_length(NULL));
        printf("predict %d %s\n", bnn_predict(NULL, input, 1, input), bnn_last_error());
        printf("load_memory %s %s\n", bnn_load_memory(NULL, 10) == NULL ? "null" : "ok", bnn_last_error());
        bnn_free(NULL);
        printf("after_free '%s'\n", bnn_last_error());
        return 0;
    }
    fprintf(stderr, "usage: check run MODEL INPUT.f32 COUNT | check load PATH | check args MODEL\n");
    return 2;
}
