/* bnn.h - C API of libbnn.so, the BnnDsl packed-model interpreter (a .NET NativeAOT shared library).
 *
 * Build the library:
 *   dotnet publish native/BnnDsl.Native -r linux-x64 -c Release -p:PublishAot=true -p:IlcInstructionSet=x86-64-v3 -o out
 * Link against it:
 *   gcc -Inative/include app.c -Lout -lbnn -Wl,-rpath,'$ORIGIN' -o app
 *
 * A model is a .bnnx file written by the converter (see docs/formats.md). Inputs are float32 NHWC samples, normalized
 * the way the model was trained (MNIST: (pixel / 255 - 0.1307) / 0.3081). A handle is thread-safe: several threads may
 * call bnn_predict / bnn_classify on one handle at once. No call lets an error escape as a crash: failures return NULL
 * or -1 and leave a message for bnn_last_error.
 */
#ifndef BNN_H
#define BNN_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An opaque loaded model. */
typedef struct bnn_model bnn_model;

/* Loads and checks the .bnnx file at path (NUL-terminated UTF-8).
 * Returns a handle to release with bnn_free, or NULL on error (missing, damaged or not a packed model;
 * bnn_last_error names the file and the problem). */
bnn_model* bnn_load_file(const char* path);

/* Loads and checks a .bnnx image of length bytes at data; the bytes are copied, so the caller may free them at once.
 * Returns a handle to release with bnn_free, or NULL on error (see bnn_last_error). */
bnn_model* bnn_load_memory(const void* data, size_t length);

/* Floats per input sample (channels x height x width), or -1 if model is NULL. */
int bnn_input_length(const bnn_model* model);

/* Logits per sample (the number of classes), or -1 if model is NULL. */
int bnn_output_length(const bnn_model* model);

/* Runs count samples: input holds count x bnn_input_length floats, logits receives count x bnn_output_length floats.
 * Returns 0 on success, -1 on error (NULL model or buffer, negative count; see bnn_last_error). */
int bnn_predict(const bnn_model* model, const float* input, int count, float* logits);

/* Writes the predicted class (index of the largest logit) of each of count samples to classes (count ints).
 * Returns 0 on success, -1 on error (see bnn_last_error). */
int bnn_classify(const bnn_model* model, const float* input, int count, int* classes);

/* The message of the calling thread's last failed call, as UTF-8; "" if that call succeeded. Never NULL.
 * The string belongs to the library and stays valid until the next bnn_ call on the same thread. */
const char* bnn_last_error(void);

/* Releases a model; NULL is ignored. The handle must not be used afterwards. */
void bnn_free(bnn_model* model);

#ifdef __cplusplus
}
#endif

#endif /* BNN_H */
