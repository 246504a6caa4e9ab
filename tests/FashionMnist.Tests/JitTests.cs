using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using Xunit;
using Xunit.Abstractions;

namespace FashionMnist.Tests
{
    /// <summary>
    /// RyuJIT compiles methods past its size limits without optimization ("MinOpts"). Every generated method must stay
    /// inside them: train one epoch with tiering off (so each method is compiled once, fully optimized or not) and read
    /// the JIT's own summary.
    /// </summary>
    public sealed class JitTests : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-jit-").FullName;

        public JitTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        [Fact]
        public void NoGeneratedMethodIsSwitchedToMinOpts()
        {
            string summary = Path.Combine(_folder, "jit.txt");
            var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "FashionMnist.dll"));
            foreach (var argument in new[] { "--epochs", "1", "--limit", "200", "--data", Path.Combine(AppContext.BaseDirectory, "fashion-subset"), "--output", Path.Combine(_folder, "run") })
                start.ArgumentList.Add(argument);
            start.Environment["DOTNET_TieredCompilation"] = "0";
            start.Environment["DOTNET_JitDisasmSummary"] = "1";
            start.Environment["DOTNET_JitStdOutFile"] = summary;
            using (var process = Process.Start(start)!)
            {
                process.StandardError.ReadToEndAsync();
                process.StandardOutput.ReadToEnd();
                process.WaitForExit();
                Assert.Equal(0, process.ExitCode);
            }

            var generated = File.ReadAllLines(summary).Where(line => line.Contains("FashionMnist.LeNet5", StringComparison.Ordinal)).ToArray();
            _output.WriteLine($"{generated.Length} methods of the generated LeNet5 compiled");
            // The bodies of Forward and Backward (small layer methods are inlined into them; the public wrappers that guard
            // the workspace may be inlined into their callers) and the larger layer methods.
            Assert.Contains(generated, line => line.Contains("LeNet5:ForwardCore(", StringComparison.Ordinal));
            Assert.Contains(generated, line => line.Contains("LeNet5:BackwardCore(", StringComparison.Ordinal));
            Assert.Contains(generated, line => line.Contains("Layer0Conv2dBackward", StringComparison.Ordinal));
            Assert.True(generated.Length > 20, "the summary should list the generated layer methods");
            var slow = generated.Where(line => line.Contains("MinOpts", StringComparison.Ordinal) || !line.Contains("FullOpts", StringComparison.Ordinal)).ToArray();
            Assert.True(slow.Length == 0, "Compiled without full optimization:\n" + string.Join("\n", slow));
        }
    }
}
