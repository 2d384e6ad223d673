// The C API of libbnn.so (declared in native/include/bnn.h): load a packed model, predict, classify, free.
// No exception crosses the boundary: every failure returns NULL or -1 and leaves a message for bnn_last_error.
using System.Runtime.InteropServices;
using System.Text;
using BnnDsl.Runtime.Deployment;

namespace BnnDsl.Native;

/// <summary>
/// Entry points exported by the NativeAOT shared library. A handle is a <see cref="GCHandle"/> to a
/// <see cref="PackedModel"/>; the model is thread-safe, so one handle may serve several threads at once.
/// </summary>
public static unsafe class NativeApi
{
    /// <summary>The name error messages give a model loaded from memory.</summary>
    public const string MemoryModelName = "<memory>";

    [ThreadStatic] private static byte* error;
    [ThreadStatic] private static int errorCapacity;

    /// <summary><c>bnn_load_file</c>: loads the .bnnx file at the UTF-8 <paramref name="path"/>; NULL on error.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_load_file")]
    public static nint LoadFile(byte* path)
    {
        ClearError();
        try
        {
            if (path is null)
            {
                return Fail("bnn_load_file: path is NULL; pass a NUL-terminated UTF-8 file path.");
            }

            string file = Marshal.PtrToStringUTF8((nint)path) ?? "";
            return GCHandle.ToIntPtr(GCHandle.Alloc(PackedModel.Load(file)));
        }
        catch (Exception e)
        {
            return Fail(e.Message);
        }
    }

    /// <summary><c>bnn_load_memory</c>: loads a .bnnx image of <paramref name="length"/> bytes (copied); NULL on error.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_load_memory")]
    public static nint LoadMemory(byte* data, nuint length)
    {
        ClearError();
        try
        {
            if (data is null && length != 0)
            {
                return Fail($"bnn_load_memory: data is NULL but length is {length}; pass the address of the model's bytes.");
            }

            if (length > (nuint)Array.MaxLength)
            {
                return Fail($"bnn_load_memory: length {length} is larger than a model can be ({Array.MaxLength} bytes); pass the model's size.");
            }

            var bytes = new ReadOnlySpan<byte>(data, (int)length).ToArray();
            return GCHandle.ToIntPtr(GCHandle.Alloc(PackedModel.Load(bytes, MemoryModelName)));
        }
        catch (Exception e)
        {
            return Fail(e.Message);
        }
    }

    /// <summary><c>bnn_input_length</c>: floats per input sample; -1 if the handle is NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_input_length")]
    public static int InputLength(nint handle)
    {
        ClearError();
        try
        {
            return Model(handle, "bnn_input_length") is { } model ? model.InputLength : -1;
        }
        catch (Exception e)
        {
            return Fail(e.Message, -1);
        }
    }

    /// <summary><c>bnn_output_length</c>: logits per sample; -1 if the handle is NULL.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_output_length")]
    public static int OutputLength(nint handle)
    {
        ClearError();
        try
        {
            return Model(handle, "bnn_output_length") is { } model ? model.OutputLength : -1;
        }
        catch (Exception e)
        {
            return Fail(e.Message, -1);
        }
    }

    /// <summary><c>bnn_predict</c>: writes count × output-length logits; 0 on success, -1 on error.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_predict")]
    public static int Predict(nint handle, float* input, int count, float* logits)
    {
        ClearError();
        try
        {
            if (Model(handle, "bnn_predict") is not { } model || !CheckBuffers("bnn_predict", model, input, count, logits, "logits", model.OutputLength))
            {
                return -1;
            }

            model.Predict(new ReadOnlySpan<float>(input, count * model.InputLength), count, new Span<float>(logits, count * model.OutputLength));
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e.Message, -1);
        }
    }

    /// <summary><c>bnn_classify</c>: writes the predicted class of each of count samples; 0 on success, -1 on error.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_classify")]
    public static int Classify(nint handle, float* input, int count, int* classes)
    {
        ClearError();
        try
        {
            if (Model(handle, "bnn_classify") is not { } model || !CheckBuffers("bnn_classify", model, input, count, classes, "classes", 1))
            {
                return -1;
            }

            model.Classify(new ReadOnlySpan<float>(input, count * model.InputLength), count, new Span<int>(classes, count));
            return 0;
        }
        catch (Exception e)
        {
            return Fail(e.Message, -1);
        }
    }

    /// <summary><c>bnn_last_error</c>: the message of the calling thread's last failed call, "" after a successful one.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_last_error")]
    public static byte* LastError()
    {
        if (error is null)
        {
            ClearError();
        }

        return error;
    }

    /// <summary><c>bnn_free</c>: releases a handle; NULL is ignored.</summary>
    [UnmanagedCallersOnly(EntryPoint = "bnn_free")]
    public static void Free(nint handle)
    {
        ClearError();
        try
        {
            if (handle != 0)
            {
                GCHandle.FromIntPtr(handle).Free();
            }
        }
        catch (Exception e)
        {
            Fail(e.Message);
        }
    }

    private static PackedModel? Model(nint handle, string function)
    {
        if (handle == 0)
        {
            Fail($"{function}: the handle is NULL; pass the handle bnn_load_file or bnn_load_memory returned (they return NULL on error: see bnn_last_error).");
            return null;
        }

        return (PackedModel)GCHandle.FromIntPtr(handle).Target!;
    }

    private static bool CheckBuffers(string function, PackedModel model, float* input, int count, void* output, string outputName, int outputPerSample)
    {
        if (count < 0)
        {
            Fail($"{function}: count is {count}; pass the number of samples (0 or more).");
            return false;
        }

        if ((long)count * model.InputLength > Array.MaxLength || (long)count * outputPerSample > Array.MaxLength)
        {
            Fail($"{function}: count {count} is too large for one call; pass fewer samples per call.");
            return false;
        }

        if (count > 0 && (input is null || output is null))
        {
            Fail($"{function}: {(input is null ? "input" : outputName)} is NULL; pass a buffer of count × {(input is null ? model.InputLength : outputPerSample)} elements.");
            return false;
        }

        return true;
    }

    private static nint Fail(string message) => Fail(message, (nint)0);

    private static T Fail<T>(string message, T result)
    {
        int length = Encoding.UTF8.GetByteCount(message);
        EnsureCapacity(length + 1);
        int written = Encoding.UTF8.GetBytes(message, new Span<byte>(error, length));
        error[written] = 0;
        return result;
    }

    private static void ClearError()
    {
        EnsureCapacity(1);
        error[0] = 0;
    }

    private static void EnsureCapacity(int bytes)
    {
        if (error is null || errorCapacity < bytes)
        {
            int capacity = Math.Max(bytes, 256);
            error = (byte*)NativeMemory.Realloc(error, (nuint)capacity);
            errorCapacity = capacity;
        }
    }
}
