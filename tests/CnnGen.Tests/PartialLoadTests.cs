using System;
using System.Collections.Generic;
using System.IO;
using System.Linq;
using CnnGen.IO;
using CnnGen.Tests.Fixtures;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Tests
{
    /// <summary>LeNet-5 with a 5-class head: the transfer-learning target of PartialLoadTests.</summary>
    [Network(1, 28, 28)]
    [Conv2d(6, 5, Padding = 2)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(16, 5)]
    [ReLU]
    [MaxPool(2)]
    [Flatten]
    [Linear(120)]
    [ReLU]
    [Linear(84)]
    [ReLU]
    [Linear(5)]
    public partial class LeNet5Head5 { }

    /// <summary>Loading for transfer: a backbone from a file whose head differs; skip, rename, map; never half-applied.</summary>
    public sealed class PartialLoadTests
    {
        private readonly ITestOutputHelper _output;

        public PartialLoadTests(ITestOutputHelper output) => _output = output;

        private static (LeNet5 Source, byte[] Bytes) TenClassFile(ulong seed = 7)
        {
            var source = new LeNet5();
            source.ResetParameters(seed);
            var stream = new MemoryStream();
            NetworkWeights.Save(source, stream);
            return (source, stream.ToArray());
        }

        private static float[] Tensor(INetwork network, string key)
        {
            var entry = network.Layout.Tensors.Single(t => t.Name == key);
            return network.Parameters.Slice(entry.Offset, entry.Length).ToArray();
        }

        private static readonly string[] Backbone = { "0.weight", "0.bias", "3.weight", "3.bias", "7.weight", "7.bias", "9.weight", "9.bias" };

        [Fact]
        public void BackboneLoads_HeadSkipped_Reported()
        {
            var (source, bytes) = TenClassFile();
            var target = new LeNet5Head5();
            target.ResetParameters(99);
            var head = Tensor(target, "11.weight");
            var report = NetworkWeights.LoadPartial(target, bytes, "ten.safetensors", new PartialLoadOptions { Skip = new[] { "11." } });
            _output.WriteLine(report.ToString());
            Assert.Equal(Backbone, report.Loaded.Select(l => l.Key));
            Assert.Equal(new[] { "11.weight", "11.bias" }, report.Skipped);
            Assert.Equal(new[] { "11.weight", "11.bias" }, report.UnusedFileKeys);
            Assert.Empty(report.LeftAtInitialization);
            Assert.Empty(report.ShapeMismatches);
            Assert.Equal(61706 - 850, report.LoadedValues);
            Assert.Equal(425, report.KeptValues);
            foreach (string key in Backbone) Assert.Equal(Tensor(source, key), Tensor(target, key));
            Assert.Equal(head, Tensor(target, "11.weight"));
            Assert.Contains("Loaded 8 tensor(s), 60,856 values, from ten.safetensors; 425 values kept as they were.", report.ToString());
        }

        [Fact]
        public void ShapeMismatch_IsRefusedNamingFileAndKey_OrSkippedWhenAsked()
        {
            var (_, bytes) = TenClassFile();
            var target = new LeNet5Head5();
            var before = target.Parameters.ToArray();
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.LoadPartial(target, bytes, "ten.safetensors"));
            Assert.Contains("'ten.safetensors'", error.Message);
            Assert.Contains("key '11.weight'", error.Message);
            Assert.Contains("expected shape [5, 84] for the network's '11.weight', found [10, 84]", error.Message);
            Assert.Equal(before, target.Parameters.ToArray()); // not half-applied: the backbone was not copied either

            var report = NetworkWeights.LoadPartial(target, bytes, "ten.safetensors", new PartialLoadOptions { SkipShapeMismatches = true });
            Assert.Equal(new[] { "11.weight", "11.bias" }, report.ShapeMismatches.Select(m => m.Key));
            Assert.Equal("[10, 84]", report.ShapeMismatches[0].Found);
            Assert.Equal(Backbone, report.Loaded.Select(l => l.Key));
            Assert.Contains("shape differs, left at initialization: 11.weight (network [5, 84], file '11.weight' [10, 84])", report.ToString());
        }

        [Fact]
        public void RenamesAndMapsFindKeysUnderOtherNames()
        {
            var (source, _) = TenClassFile(3);
            // A file laid out like a PyTorch model with named submodules: features.{0,3}, classifier.{1,3}, head.
            var map = new Dictionary<string, string>
            {
                ["0."] = "features.0.", ["3."] = "features.3.", ["7."] = "classifier.1.", ["9.weight"] = "classifier.3.weight",
            };
            var tensors = NetworkWeights.ToTensors(source).Select(t =>
            {
                string name = t.Name switch
                {
                    var n when n.StartsWith("0.") || n.StartsWith("3.") => "features." + n,
                    var n when n.StartsWith("7.") => "classifier.1." + n[2..],
                    var n when n.StartsWith("9.") => "classifier.3." + n[2..],
                    var n => "head." + n[3..],
                };
                return new SafeTensor(name, t.DType, t.Shape.AsSpan(), t.Data);
            }).ToList();
            var bytes = SafeTensorsWriter.ToBytes(tensors);
            var target = new LeNet5Head5();
            var report = NetworkWeights.LoadPartial(target, bytes, "named.safetensors", new PartialLoadOptions
            {
                Rename = map,
                MapKey = key => key == "9.bias" ? "classifier.3.bias" : null, // the rest: skip
            });
            Assert.Equal(Backbone, report.Loaded.Select(l => l.Key));
            Assert.Equal(("7.weight", "classifier.1.weight"), report.Loaded[4]);
            Assert.Equal(new[] { "11.weight", "11.bias" }, report.Skipped);
            Assert.Equal(new[] { "head.weight", "head.bias" }, report.UnusedFileKeys);
            foreach (string key in Backbone) Assert.Equal(Tensor(source, key), Tensor(target, key));
        }

        [Fact]
        public void KeysTheFileLacksAreLeftAtInitialization_OrRefusedWithRequireAll()
        {
            var (source, _) = TenClassFile();
            var bytes = SafeTensorsWriter.ToBytes(NetworkWeights.ToTensors(source).Where(t => !t.Name.StartsWith("9.") && !t.Name.StartsWith("11.")));
            var target = new LeNet5();
            target.ResetParameters(5);
            var init9 = Tensor(target, "9.weight");
            var report = NetworkWeights.LoadPartial(target, bytes, "partial.safetensors");
            Assert.Equal(new[] { "9.weight", "9.bias", "11.weight", "11.bias" }, report.LeftAtInitialization);
            Assert.Equal(init9, Tensor(target, "9.weight"));
            Assert.Equal(Tensor(source, "7.weight"), Tensor(target, "7.weight"));

            var fresh = new LeNet5();
            var before = fresh.Parameters.ToArray();
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.LoadPartial(fresh, bytes, "partial.safetensors", new PartialLoadOptions { RequireAll = true }));
            Assert.Contains("key '9.weight': missing", error.Message);
            Assert.Equal(before, fresh.Parameters.ToArray());
        }

        public static readonly TheoryData<string, string> BadOptions = new()
        {
            { "skip", "the skip list names 'head.', which matches no tensor" },
            { "rename-source", "the rename 'fc.weight' -> '11.weight' matches no tensor" },
            { "rename-target", "key 'nope.weight': missing: the rename maps the network's '0.weight'" },
            { "prefix", "nothing in the file fits LeNet5Head5: no tensor was loaded" },
            { "unused", "key '11.weight': nothing in LeNet5Head5 loads this key" },
            { "dtype", "key '0.bias': expected dtype F32 for the network's '0.bias', found F64" },
        };

        /// <summary>A mapping or file that does not fit: one exception naming the file and key, and the network as it was.</summary>
        [Theory]
        [MemberData(nameof(BadOptions))]
        public void BadMappingsAreRefusedBeforeAnythingIsCopied(string kind, string message)
        {
            var (source, bytes) = TenClassFile();
            if (kind == "dtype")
            {
                var tensors = NetworkWeights.ToTensors(source).Select(t => t.Name != "0.bias" ? t
                    : new SafeTensor("0.bias", SafeTensorDType.F64, t.Shape.AsSpan(), new byte[t.ElementCount * 8])).ToList();
                bytes = SafeTensorsWriter.ToBytes(tensors);
            }
            var options = kind switch
            {
                "skip" => new PartialLoadOptions { Skip = new[] { "head." } },
                "rename-source" => new PartialLoadOptions { Rename = new Dictionary<string, string> { ["fc.weight"] = "11.weight" } },
                "rename-target" => new PartialLoadOptions { Rename = new Dictionary<string, string> { ["0.weight"] = "nope.weight" } },
                "prefix" => new PartialLoadOptions { KeyPrefix = "model." },
                "unused" => new PartialLoadOptions { Skip = new[] { "11." }, RejectUnusedKeys = true },
                _ => new PartialLoadOptions { Skip = new[] { "11." } },
            };
            var target = new LeNet5Head5();
            var before = target.Parameters.ToArray();
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.LoadPartial(target, bytes, "bad.safetensors", options));
            _output.WriteLine(error.Message);
            Assert.StartsWith("Weight file 'bad.safetensors'", error.Message);
            Assert.Contains(message, error.Message);
            Assert.Equal(before, target.Parameters.ToArray());
        }

        [Fact]
        public void ACorruptFileIsOneExceptionNamingIt()
        {
            var (_, bytes) = TenClassFile();
            var target = new LeNet5Head5();
            var before = target.Parameters.ToArray();
            var error = Assert.Throws<WeightFileException>(() => NetworkWeights.LoadPartial(target, bytes.AsSpan(0, bytes.Length - 100), "cut.safetensors"));
            Assert.Contains("cut.safetensors", error.Message);
            Assert.Equal(before, target.Parameters.ToArray());
        }
    }
}
