// Each DeviceOps method against the CPU PackedOps method of the same PlanOp on the same random inputs: binary and
// integer results bit for bit, float results within 1e-5 relative (the device may sum in another order).
using BnnDsl.Kernels.Cpu;
using BnnDsl.Kernels.Gpu;
using BnnDsl.Runtime.Deployment;
using BnnDsl.Runtime.Devices;
using ILGPU;
using ILGPU.Runtime;

namespace BnnDsl.Runtime.Gpu.Tests;

public sealed class DeviceOpsTests
{
    private const float Relative = 1e-5f;

    private static GpuDevice Gpu => TestModels.Device.Gpu;

    [Theory]
    [InlineData(3, 1)]
    [InlineData(2, 70)]
    [InlineData(5, 129)]
    public void SignUnpackAndRepackAreExact(int rows, int channels)
    {
        var random = new Random(rows * 100 + channels);
        var values = Floats(random, rows * channels, zeros: true);
        int words = SignPacking.WordsFor(channels);
        var expected = new ulong[rows * words];
        PackedOps.Sign(values, rows, channels, expected);
        using var input = Up(values);
        using var bits = Gpu.Allocate<ulong>(expected.Length);
        DeviceOps.Sign(Gpu, input.View, rows, channels, bits.View);
        Assert.Equal(expected, bits.GetAsArray1D());

        var signs = new float[rows * channels];
        PackedOps.Unpack(expected, rows, channels, signs);
        using var unpacked = Gpu.Allocate<float>(signs.Length);
        DeviceOps.Unpack(Gpu, bits.View, rows, channels, unpacked.View);
        Assert.Equal(signs, unpacked.GetAsArray1D());

        int count = 1, positions = rows;
        var flat = new ulong[count * SignPacking.WordsFor(positions * channels)];
        PackedOps.Repack(expected, count, positions, channels, flat);
        using var repacked = Gpu.Allocate<ulong>(flat.Length);
        DeviceOps.Repack(Gpu, bits.View, count, positions, channels, repacked.View);
        Assert.Equal(flat, repacked.GetAsArray1D());
    }

    [Theory]
    [InlineData(3, 8, 3, 1, 1, 0, 0)]
    [InlineData(1, 16, 5, 1, 0, 2, 2)]
    [InlineData(2, 20, 3, 2, 1, 3, 1)]
    public void FloatConvMatchesWithBiasNormPoolAndSigns(int channels, int filters, int kernel, int stride, int pad, int poolKernel, int poolStride)
    {
        var random = new Random(filters * 7 + kernel);
        const int count = 2;
        var image = new Conv2dShape(1, 9, 9, channels, filters, kernel, kernel, stride, stride, pad, pad);
        var weight = Floats(random, filters * kernel * kernel * channels);
        var bias = Floats(random, filters);
        var scale = Floats(random, filters);
        var shift = Floats(random, filters);
        var conv = new FloatConvWeights(image, weight, bias, scale, shift);
        var x = Floats(random, count * 9 * 9 * channels);
        int outH = poolKernel == 0 ? image.OutputHeight : (image.OutputHeight - poolKernel) / poolStride + 1;
        int outW = poolKernel == 0 ? image.OutputWidth : (image.OutputWidth - poolKernel) / poolStride + 1;
        int positions = count * outH * outW, words = SignPacking.WordsFor(filters);
        var expectedFloats = new float[positions * filters];
        PackedOps.FloatConv(x, count, conv, poolKernel, poolStride, expectedFloats, default);
        var expectedBits = new ulong[positions * words];
        PackedOps.FloatConv(x, count, conv, poolKernel, poolStride, default, expectedBits);

        using var input = Up(x);
        using var w = Up(weight);
        using var b = Up(bias);
        using var s = Up(scale);
        using var t = Up(shift);
        using var floats = Gpu.Allocate<float>(expectedFloats.Length);
        using var bits = Gpu.Allocate<ulong>(expectedBits.Length);
        DeviceOps.FloatConv(Gpu, input.View, count, image, w.View, b.View, s.View, t.View, poolKernel, poolStride, floats.View, default);
        Close(expectedFloats, floats.GetAsArray1D(), "conv floats");
        DeviceOps.FloatConv(Gpu, input.View, count, image, w.View, b.View, s.View, t.View, poolKernel, poolStride, floats.View, bits.View);
        var actualBits = bits.GetAsArray1D();
        // a sign may differ only where the value is zero to rounding
        for (int p = 0; p < positions; p++)
            for (int f = 0; f < filters; f++)
            {
                int word = p * words + (f >> 6);
                bool same = ((expectedBits[word] ^ actualBits[word]) >> (f & 63) & 1) == 0;
                Assert.True(same || MathF.Abs(expectedFloats[p * filters + f]) < 1e-4f, $"sign of position {p}, filter {f}");
            }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void DenseLayersMatch(bool withBias)
    {
        var random = new Random(withBias ? 1 : 2);
        const int count = 3, inputs = 70, units = 11;
        var weight = Floats(random, units * inputs);
        float[] bias = withBias ? Floats(random, units) : [];
        var x = Floats(random, count * inputs);
        var expected = new float[count * units];
        PackedOps.FloatDense(x, count, inputs, units, weight, bias, expected);
        using var input = Up(x);
        using var w = Up(weight);
        using var b = withBias ? Up(bias) : null;
        using var y = Gpu.Allocate<float>(expected.Length);
        DeviceOps.FloatDense(Gpu, input.View, count, inputs, units, w.View, b is null ? default : b.View, y.View);
        Close(expected, y.GetAsArray1D(), "dense");

        var packed = Bits(random, count, inputs);
        var scratch = new float[count * inputs];
        PackedOps.BitsDense(packed, count, inputs, units, weight, bias, scratch, expected);
        using var bitsInput = Up(packed);
        using var deviceScratch = Gpu.Allocate<float>(scratch.Length);
        DeviceOps.BitsDense(Gpu, bitsInput.View, count, inputs, units, w.View, b is null ? default : b.View, deviceScratch.View, y.View);
        Close(expected, y.GetAsArray1D(), "bits dense");
    }

    [Fact]
    public void ElementwiseAndPoolingStepsMatch()
    {
        var random = new Random(5);
        const int count = 2, height = 6, width = 6, channels = 13;
        int length = count * height * width * channels;
        var x = Floats(random, length, zeros: true);
        var other = Floats(random, length);
        var scale = Floats(random, channels);
        var shift = Floats(random, channels);
        using var input = Up(x);
        using var second = Up(other);
        using var s = Up(scale);
        using var t = Up(shift);
        using var y = Gpu.Allocate<float>(length);

        var expected = new float[length];
        PackedOps.Affine(x, scale, shift, expected);
        DeviceOps.Affine(Gpu, input.View, length / channels, channels, s.View, t.View, y.View);
        DeviceTestData.SameFloats(expected, y.GetAsArray1D(), "affine");

        PackedOps.ReLU(x, expected);
        DeviceOps.ReLU(Gpu, input.View, length, y.View);
        Assert.Equal(expected, y.GetAsArray1D());

        var signs = new ulong[count * height * width * SignPacking.WordsFor(channels)];
        PackedOps.Add(x, other, expected, channels, signs);
        using var bits = Gpu.Allocate<ulong>(signs.Length);
        DeviceOps.Add(Gpu, input.View, second.View, y.View, length, channels, bits.View);
        Assert.Equal(expected, y.GetAsArray1D());
        Assert.Equal(signs, bits.GetAsArray1D());
        DeviceOps.Add(Gpu, input.View, second.View, y.View, length, channels, default);
        Assert.Equal(expected, y.GetAsArray1D());

        var pool = new Pool2dShape(count, height, width, channels, 2, 2, 2, 2, 0, 0);
        var pooled = new float[pool.OutputPositions * channels];
        using var pooledDevice = Gpu.Allocate<float>(pooled.Length);
        using var argmax = Gpu.Allocate<int>(pooled.Length);
        PackedOps.MaxPool(pool, x, pooled);
        DeviceOps.MaxPool(Gpu, pool, input.View, pooledDevice.View, argmax.View);
        Assert.Equal(pooled, pooledDevice.GetAsArray1D());
        PackedOps.AvgPool(pool, x, pooled);
        DeviceOps.AvgPool(Gpu, pool, input.View, pooledDevice.View);
        Close(pooled, pooledDevice.GetAsArray1D(), "average pool");

        var means = new float[count * channels];
        using var meansDevice = Gpu.Allocate<float>(means.Length);
        PackedOps.GlobalAvgPool(count, height, width, channels, x, means);
        DeviceOps.GlobalAvgPool(Gpu, count, height, width, channels, input.View, meansDevice.View);
        DeviceTestData.SameFloats(means, meansDevice.GetAsArray1D(), "global average pool");

        var packed = Bits(random, count * height * width, 70);
        var poolBits = pool with { Channels = 70 };
        var packedPooled = new ulong[poolBits.OutputPositions * 2];
        PackedOps.PackedMaxPool(packed, poolBits, packedPooled);
        using var packedInput = Up(packed);
        using var packedOutput = Gpu.Allocate<ulong>(packedPooled.Length);
        DeviceOps.PackedMaxPool(Gpu, packedInput.View, poolBits, packedOutput.View);
        Assert.Equal(packedPooled, packedOutput.GetAsArray1D());
    }

    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(8)]
    public void QuantizeIsBitForBitWithHalvesToEven(int bits)
    {
        var random = new Random(bits);
        int levels = (1 << bits) - 1;
        var x = Floats(random, 500).Concat(Enumerable.Range(-1, levels + 2).Select(i => (i + 0.5f) / levels)).ToArray();
        var expected = new float[x.Length];
        PackedOps.Quantize(x, bits, expected);
        using var input = Up(x);
        using var y = Gpu.Allocate<float>(x.Length);
        DeviceOps.Quantize(Gpu, input.View, x.Length, bits, y.View);
        Assert.Equal(expected, y.GetAsArray1D());
    }

    [Theory]
    [InlineData(BinaryPadding.One, 1)]
    [InlineData(BinaryPadding.Zero, 1)]
    [InlineData(BinaryPadding.Zero, 2)]
    public void XnorConvMatchesWithThresholdsAndScaleBias(BinaryPadding padding, int stride)
    {
        var random = new Random((int)padding * 10 + stride);
        const int count = 2, channels = 70, filters = 67;
        var shape = new Conv2dShape(count, 5, 5, channels, filters, 3, 3, stride, stride, 1, 1);
        var packedWeights = Bits(random, filters * 9, channels);
        var plan = new BinaryConv2dPlan(shape, BinaryConvWeights.FromPacked(packedWeights, filters, 3, 3, channels), padding);
        var x = Bits(random, count * 25, channels);
        var scratch = new ulong[BinaryConv2d.ScratchLength(shape)];
        var threshold = Enumerable.Range(0, filters).Select(_ => random.Next(-40, 40)).ToArray();
        var expectedBits = new ulong[shape.OutputPositions * 2];
        PackedOps.XnorConv(x, plan, scratch, threshold, expectedBits);
        var scale = Floats(random, filters);
        var bias = Floats(random, filters);
        var expectedFloats = new float[shape.OutputPositions * filters];
        PackedOps.XnorConv(x, plan, scratch, scale, bias, expectedFloats);

        AssertXnorOutputs(x, packedWeights, threshold, scale, bias, expectedBits, expectedFloats,
            (input, w, t, bits) => DeviceOps.XnorConv(Gpu, input, shape, padding, w, t, bits),
            (input, w, s, b, floats) => DeviceOps.XnorConv(Gpu, input, shape, padding, w, s, b, floats));
    }

    [Fact]
    public void XnorDenseMatchesWithThresholdsAndScaleBias()
    {
        var random = new Random(3);
        const int count = 3, inputs = 130, units = 70;
        var packedWeights = Bits(random, units, inputs);
        var weights = XnorPackedB.Pack(packedWeights, units, SignPacking.WordsFor(inputs), inputs);
        var x = Bits(random, count, inputs);
        var threshold = Enumerable.Range(0, units).Select(_ => random.Next(-30, 30)).ToArray();
        var expectedBits = new ulong[count * 2];
        PackedOps.XnorDense(x, count, weights, threshold, expectedBits);
        var scale = Floats(random, units);
        var bias = Floats(random, units);
        var expectedFloats = new float[count * units];
        PackedOps.XnorDense(x, count, weights, scale, bias, expectedFloats);

        AssertXnorOutputs(x, packedWeights, threshold, scale, bias, expectedBits, expectedFloats,
            (input, w, t, bits) => DeviceOps.XnorDense(Gpu, input, count, inputs, units, w, t, bits),
            (input, w, s, b, floats) => DeviceOps.XnorDense(Gpu, input, count, inputs, units, w, s, b, floats));
    }

    [Theory]
    [InlineData(2, 2, true)]
    [InlineData(3, 4, false)]
    [InlineData(8, 2, true)]
    public void BitSerialConvAndDenseMatch(int activationBits, int weightBits, bool norm)
    {
        var random = new Random(activationBits * 10 + weightBits);
        const int count = 2, channels = 10, filters = 9;
        var image = new Conv2dShape(1, 5, 5, channels, filters, 3, 3, 1, 1, 1, 1);
        int k = 9 * channels;
        var (cpuWeights, deviceWeights) = KBitWeights(random, filters, k, weightBits);
        float[]? scale = norm ? Floats(random, filters) : null;
        float[]? shift = norm ? Floats(random, filters) : null;
        var conv = new BitSerialWeights(cpuWeights, activationBits, image, scale, shift);
        var x = Floats(random, count * 25 * channels).Select(v => v + 0.3f).ToArray();
        var expected = new float[count * 25 * filters];
        PackedOps.BitSerialConv(x, count, conv, new float[PackedOps.BitSerialColumnsLength(conv)], new ulong[PackedOps.BitSerialPlanesLength(conv, 1)], expected);

        using var input = Up(x);
        using var w = Up(deviceWeights);
        using var s = norm ? Up(scale!) : null;
        using var t = norm ? Up(shift!) : null;
        using var planes = Gpu.Allocate<ulong>(DeviceOps.BitSerialConvPlanesLength(image, count, activationBits));
        using var y = Gpu.Allocate<float>(expected.Length);
        DeviceOps.BitSerialConv(Gpu, input.View, count, image, activationBits, w.View, weightBits, planes.View,
            s is null ? default : s.View, t is null ? default : t.View, y.View);
        DeviceTestData.SameFloats(expected, y.GetAsArray1D(), "bit-serial conv");

        var dense = new BitSerialWeights(cpuWeights, activationBits, default, scale, shift);
        var vectors = x.AsSpan(0, count * k).ToArray();
        var expectedDense = new float[count * filters];
        PackedOps.BitSerialDense(vectors, count, dense, new ulong[PackedOps.BitSerialPlanesLength(dense, count)], expectedDense);
        using var denseOutput = Gpu.Allocate<float>(expectedDense.Length);
        DeviceOps.BitSerialDense(Gpu, input.View, count, k, filters, activationBits, w.View, weightBits, planes.View,
            s is null ? default : s.View, t is null ? default : t.View, denseOutput.View);
        DeviceTestData.SameFloats(expectedDense, denseOutput.GetAsArray1D(), "bit-serial dense");
    }

    /// <summary>
    /// Uploads an XNOR op's operands, runs its threshold form (<paramref name="thresholdForm"/>: input, weights,
    /// thresholds, bits out) and its scale-bias form (<paramref name="scaleBiasForm"/>: input, weights, scale, bias,
    /// floats out) on the device and checks both against the CPU's outputs: the bits exactly, the floats with
    /// <see cref="DeviceTestData.SameFloats"/> (exactly on the CPU accelerator).
    /// </summary>
    private static void AssertXnorOutputs(ulong[] x, ulong[] packedWeights, int[] threshold, float[] scale, float[] bias, ulong[] expectedBits, float[] expectedFloats,
        Action<ArrayView<ulong>, ArrayView<ulong>, ArrayView<int>, ArrayView<ulong>> thresholdForm,
        Action<ArrayView<ulong>, ArrayView<ulong>, ArrayView<float>, ArrayView<float>, ArrayView<float>> scaleBiasForm)
    {
        using var input = Up(x);
        using var w = Up(packedWeights);
        using var t = Up(threshold);
        using var s = Up(scale);
        using var b = Up(bias);
        using var bits = Gpu.Allocate<ulong>(expectedBits.Length);
        using var floats = Gpu.Allocate<float>(expectedFloats.Length);
        thresholdForm(input.View, w.View, t.View, bits.View);
        Assert.Equal(expectedBits, bits.GetAsArray1D());
        scaleBiasForm(input.View, w.View, s.View, b.View, floats.View);
        DeviceTestData.SameFloats(expectedFloats, floats.GetAsArray1D(), "scale-bias output");
    }

    /// <summary>Random <paramref name="bits"/>-bit weight codes, packed for the CPU kernel and as rows of planes (the model's layout) for the device.</summary>
    private static (BitSerialPackedB Cpu, ulong[] Device) KBitWeights(Random random, int n, int k, int bits)
    {
        var codes = new byte[n * k];
        for (int i = 0; i < codes.Length; i++)
            codes[i] = (byte)random.Next(1 << bits);
        var planes = new ulong[n * BitPlanes.RowWords(k, bits)];
        BitPlanes.PackActivationCodes(codes, n, k, bits, planes);
        return (BitSerialPackedB.PackCodes(codes, n, k, bits), planes);
    }

    private static MemoryBuffer1D<T, Stride1D.Dense> Up<T>(T[] values) where T : unmanaged => Gpu.Accelerator.Allocate1D(values);

    private static float[] Floats(Random random, int length, bool zeros = false)
    {
        var values = new float[length];
        for (int i = 0; i < length; i++)
            values[i] = zeros && i % 9 == 4 ? 0f : (float)(random.NextDouble() * 2 - 1);
        return values;
    }

    /// <summary><paramref name="rows"/> random packed rows of <paramref name="channels"/> signs, tail bits zero.</summary>
    private static ulong[] Bits(Random random, int rows, int channels)
    {
        int words = SignPacking.WordsFor(channels);
        var bits = new ulong[rows * words];
        for (int r = 0; r < rows; r++)
            for (int w = 0; w < words; w++)
            {
                int valid = Math.Min(64, channels - w * 64);
                ulong word = (ulong)random.NextInt64() ^ ((ulong)random.NextInt64() << 1);
                bits[r * words + w] = valid == 64 ? word : word & ((1UL << valid) - 1);
            }
        return bits;
    }

    private static void Close(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(MathF.Abs(actual[i] - expected[i]) <= Relative * Math.Max(1f, MathF.Abs(expected[i]))))
                Assert.Fail($"{what}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
