// A minimal protocol-buffers encoder (varints, fixed32 and length-delimited fields), enough to write ONNX models.
using System.Buffers;
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;

namespace BnnDsl.Runtime.Onnx;

/// <summary>
/// Writes protobuf fields in wire format (https://protobuf.dev/programming-guides/encoding/): a tag
/// <c>(field &lt;&lt; 3) | wire type</c> as a varint, then the value, a varint (type 0), four little-endian bytes
/// (type 5) or a varint length and the bytes (type 2). An embedded message is encoded into its own writer first,
/// so its length is known. Repeated scalars are written one field each (proto2's unpacked form, which ONNX's
/// proto2 schema declares and every parser reads).
/// </summary>
internal sealed class ProtoWriter
{
    private const int Varint = 0, LengthDelimited = 2, Fixed32 = 5;

    private readonly ArrayBufferWriter<byte> buffer = new();

    /// <summary>Bytes written so far.</summary>
    public ReadOnlySpan<byte> WrittenSpan => buffer.WrittenSpan;

    /// <summary>An int64 (or int32, or enum) field.</summary>
    public void Int64(int field, long value)
    {
        Tag(field, Varint);
        WriteVarint(unchecked((ulong)value));
    }

    /// <summary>A float field.</summary>
    public void Float(int field, float value)
    {
        Tag(field, Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(buffer.GetSpan(4), value);
        buffer.Advance(4);
    }

    /// <summary>A string field (UTF-8).</summary>
    public void String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    /// <summary>A bytes field.</summary>
    public void Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, LengthDelimited);
        WriteVarint((ulong)value.Length);
        buffer.Write(value);
    }

    /// <summary>A bytes field holding <paramref name="values"/> as little-endian float32 (ONNX's <c>raw_data</c>).</summary>
    public void FloatBytes(int field, ReadOnlySpan<float> values)
    {
        if (!BitConverter.IsLittleEndian)
            throw new PlatformNotSupportedException("ONNX export writes raw little-endian tensors and runs on little-endian machines only.");
        Bytes(field, MemoryMarshal.AsBytes(values));
    }

    /// <summary>An embedded message field whose content <paramref name="write"/> writes.</summary>
    public void Message(int field, Action<ProtoWriter> write)
    {
        var inner = new ProtoWriter();
        write(inner);
        Bytes(field, inner.WrittenSpan);
    }

    private void Tag(int field, int wireType) => WriteVarint(((ulong)field << 3) | (uint)wireType);

    private void WriteVarint(ulong value)
    {
        var span = buffer.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }
        span[n++] = (byte)value;
        buffer.Advance(n);
    }
}
