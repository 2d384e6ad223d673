// Checkpoints: parameters and optimizer state saved and loaded bit-exactly, the format metadata, and every load
// error (missing file, not a checkpoint, missing or misshapen tensor) as a ModelFileException naming the tensor.
using BnnDsl.Runtime.Checkpoints;
using BnnDsl.Runtime.Training;

namespace BnnDsl.Runtime.Tests;

public sealed class CheckpointTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("bnndsl-checkpoint-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    private string PathOf(string name) => Path.Combine(_directory, name);

    private static Parameter[] Network(int seed)
    {
        var random = new Random(seed);
        Parameter[] parameters =
        [
            new("conv1.weight", [4, 3, 3, 3], ParameterRole.LatentWeight, bits: 1),
            new("bn1.gamma", [4], ParameterRole.Scale),
            new("bn1.beta", [4], ParameterRole.Bias),
            new("bn1.running_var", [4], ParameterRole.State),
            new("fc.weight", [10, 36], ParameterRole.Weight),
        ];
        foreach (var p in parameters)
            for (int i = 0; i < p.Length; i++)
                p.Value[i] = random.NextSingle() * 2 - 1;
        return parameters;
    }

    [Fact]
    public void ParametersRoundTripBitExactly()
    {
        string path = PathOf("model.safetensors");
        var saved = Network(1);

        Checkpoint.Save(path, saved, new Dictionary<string, string> { ["epoch"] = "3" });
        var loaded = Network(2);
        Checkpoint.Load(path, loaded);

        for (int k = 0; k < saved.Length; k++)
            Assert.Equal(saved[k].Value, loaded[k].Value);
        Assert.Equal(new Dictionary<string, string> { ["epoch"] = "3", ["format"] = "bnndsl-checkpoint", ["format_version"] = "1" },
            Checkpoint.ReadMetadata(path));
        var file = SafeTensorsFile.Read(path);
        Assert.All(file.Tensors, t => Assert.Equal(SafeTensorDType.F32, t.DType));
        Assert.Equal([4, 3, 3, 3], file["conv1.weight"].Shape);
    }

    [Fact]
    public void LoadingASubsetIgnoresOtherTensors()
    {
        string path = PathOf("model.safetensors");
        var saved = Network(1);
        Checkpoint.Save(path, saved);

        var fc = new Parameter("fc.weight", [10, 36], ParameterRole.Weight);
        Checkpoint.Load(path, [fc]);

        Assert.Equal(saved[4].Value, fc.Value);
    }

    [Theory]
    [InlineData("adam")]
    [InlineData("sgd")]
    public void OptimizerStateSavedAndLoadedResumesBitExactly(string kind)
    {
        static Optimizer Create(string kind, Parameter[] parameters) =>
            kind == "adam" ? new Adam(parameters, weightDecay: 0.01f) : new SgdMomentum(parameters, weightDecay: 0.01f, nesterov: true);

        static void Train(Parameter[] parameters, Optimizer optimizer, int from, int to)
        {
            for (int step = from; step < to; step++)
            {
                var random = new Random(1000 + step);
                foreach (var p in parameters)
                    for (int i = 0; i < p.Gradient.Length; i++)
                        p.Gradient[i] = random.NextSingle() * 2 - 1;
                optimizer.Step(0.01f);
            }
        }

        var straight = Network(3);
        Train(straight, Create(kind, straight), 0, 5);

        string path = PathOf("resume.safetensors");
        var first = Network(3);
        var firstOptimizer = Create(kind, first);
        Train(first, firstOptimizer, 0, 3);
        Checkpoint.Save(path, [.. first, .. firstOptimizer.State]);

        var resumed = Network(99);
        var resumedOptimizer = Create(kind, resumed);
        Checkpoint.Load(path, [.. resumed, .. resumedOptimizer.State]);
        Assert.Equal(3, resumedOptimizer.Steps);
        Train(resumed, resumedOptimizer, 3, 5);

        for (int k = 0; k < straight.Length; k++)
            Assert.Equal(straight[k].Value.Select(BitConverter.SingleToInt32Bits), resumed[k].Value.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        string path = PathOf("model.safetensors");
        Checkpoint.Save(path, Network(1)[..4]);
        var into = Network(2);
        var before = into.Select(p => (float[])p.Value.Clone()).ToArray();

        var error = Assert.Throws<ModelFileException>(() => Checkpoint.Load(path, into));

        Assert.Equal(path, error.Path);
        Assert.Contains("no tensor 'fc.weight' (expected shape [10, 36])", error.Message);
        for (int k = 0; k < into.Length; k++)
            Assert.Equal(before[k], into[k].Value);
    }

    [Fact]
    public void ShapeMismatchNamesBothShapes()
    {
        string path = PathOf("model.safetensors");
        Checkpoint.Save(path, Network(1));
        var into = Network(2);
        into[4] = new Parameter("fc.weight", [36, 10], ParameterRole.Weight);

        var error = Assert.Throws<ModelFileException>(() => Checkpoint.Load(path, into));

        Assert.Contains("tensor 'fc.weight' is F32 [10, 36], expected F32 [36, 10]", error.Message);
    }

    [Fact]
    public void WrongDTypeIsRejected()
    {
        string path = PathOf("ints.safetensors");
        SafeTensorsFile.Write(path, [SafeTensor.Create<int>("bn1.gamma", [4], [1, 2, 3, 4])],
            new Dictionary<string, string> { ["format"] = "bnndsl-checkpoint", ["format_version"] = "1" });

        var error = Assert.Throws<ModelFileException>(() => Checkpoint.Load(path, [new Parameter("bn1.gamma", [4], ParameterRole.Scale)]));

        Assert.Contains("is I32 [4], expected F32 [4]", error.Message);
    }

    [Fact]
    public void MissingFileIsAModelFileException()
    {
        string path = PathOf("absent.safetensors");

        Assert.Equal(path, Assert.Throws<ModelFileException>(() => Checkpoint.Load(path, Network(1))).Path);
        Assert.Equal(path, Assert.Throws<ModelFileException>(() => Checkpoint.ReadMetadata(path)).Path);
    }

    [Fact]
    public void OtherSafeTensorsFilesAreNotCheckpoints()
    {
        string plain = PathOf("plain.safetensors");
        SafeTensorsFile.Write(plain, [SafeTensor.Create<float>("bn1.gamma", [4], [1, 2, 3, 4])]);
        string future = PathOf("future.safetensors");
        SafeTensorsFile.Write(future, [], new Dictionary<string, string> { ["format"] = "bnndsl-checkpoint", ["format_version"] = "2" });

        Assert.Contains("not a BnnDsl checkpoint", Assert.Throws<ModelFileException>(() => Checkpoint.Load(plain, [])).Message);
        Assert.Contains("format version is '2'", Assert.Throws<ModelFileException>(() => Checkpoint.ReadMetadata(future)).Message);
    }

    [Fact]
    public void ReservedMetadataKeysAreRejected()
    {
        string path = PathOf("model.safetensors");

        var error = Assert.Throws<ArgumentException>(() => Checkpoint.Save(path, Network(1), new Dictionary<string, string> { ["format"] = "x" }));

        Assert.Equal("metadata", error.ParamName);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void NetworkSpecTravelsInTheMetadata()
    {
        string path = PathOf("model.safetensors");
        var spec = NetworkSpecJsonTests.LeNet();

        Checkpoint.Save(path, Network(1), new Dictionary<string, string> { ["spec"] = NetworkSpecJson.Write(spec) });

        Assert.Equal(spec, NetworkSpecJson.Read(Checkpoint.ReadMetadata(path)["spec"], path));
    }
}
