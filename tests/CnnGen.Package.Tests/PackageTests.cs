using System;
using System.Diagnostics;
using System.IO;
using System.Linq;
using System.Runtime.CompilerServices;
using Xunit;
using Xunit.Abstractions;

namespace CnnGen.Package.Tests
{
    /// <summary>
    /// CnnGen as users get it: pack the runtime into one package, consume it by version from a local folder in a fresh
    /// project outside the solution, run a generated network, and see a broken network fail the build with a CNN error
    /// from the packaged analyzers.
    /// </summary>
    public sealed class PackageTests : IDisposable
    {
        private readonly ITestOutputHelper _output;
        private readonly string _folder = Directory.CreateTempSubdirectory("cnngen-package-").FullName;

        public PackageTests(ITestOutputHelper output) => _output = output;

        public void Dispose() => Directory.Delete(_folder, recursive: true);

        private const string Network = """
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
            [Linear(10)]
            public partial class LeNet5 { }
            """;

        [Fact]
        public void ThePackageBuildsRunsAndReportsShapeErrors()
        {
            string packages = Path.Combine(_folder, "packages");
            var (code, text) = Run(RepositoryRoot(), "dotnet", "pack", "src/CnnGen/CnnGen.csproj", "-c", "Release", "-o", packages);
            Assert.True(code == 0, text);
            Assert.True(File.Exists(Path.Combine(packages, "CnnGen.0.1.0.nupkg")), text);
            using (var package = System.IO.Compression.ZipFile.OpenRead(Path.Combine(packages, "CnnGen.0.1.0.nupkg")))
            {
                var entries = package.Entries.Select(e => e.FullName).ToHashSet();
                foreach (var expected in new[] { "lib/net8.0/CnnGen.dll", "lib/net10.0/CnnGen.dll", "analyzers/dotnet/cs/CnnGen.Generator.dll",
                    "analyzers/dotnet/cs/CnnGen.CodeFixes.dll", "build/CnnGen.targets", "buildTransitive/CnnGen.targets", "README.md", "docs/diagnostics.md" })
                    Assert.True(entries.Contains(expected), expected + " is missing from the package: " + string.Join(", ", entries));
            }

            string good = Consumer("Good", Network, """
                var network = new LeNet5();
                network.ResetParameters(7);
                var output = new float[LeNet5.OutputLength];
                network.Forward(new float[LeNet5.InputLength], output, network.CreateWorkspace());
                System.Console.WriteLine($"{LeNet5.ParameterCount} {output.Length} {float.IsFinite(output[0])}");
                System.Console.WriteLine("loops quick-jitted: " + (System.AppContext.GetData("System.Runtime.TieredCompilation.QuickJitForLoops") ?? "default"));
                """, packages);
            (code, text) = Run(good, "dotnet", "run", "-c", "Release");
            Assert.True(code == 0, text);
            Assert.Contains("61706 10 True", text);
            // The package's targets compile methods with loops optimized from their first call (the kernels' first calls).
            Assert.Contains("loops quick-jitted: false", text);

            // With a C# error in another network's attribute (PyTorch's two-argument Linear), csc stops before analyzer
            // diagnostics; the generator reports the CNN error then, so it still shows.
            string broken = Consumer("Broken", "[Network(1, 4, 4)] [Conv2d(2, 7)] [Flatten] [Linear(3)] public partial class Bad { }\n"
                + "[Network(1, 28, 28)] [Flatten] [Linear(400, 120)] public partial class TorchStyle { }",
                "System.Console.WriteLine(\"unreachable\");", packages);
            (code, text) = Run(broken, "dotnet", "build", "-c", "Release");
            Assert.NotEqual(0, code);
            Assert.Contains("error CS1729", text);
            Assert.Contains("error CNN0014", text);
            Assert.Contains("https://github.com/cnngen/cnngen/blob/main/docs/diagnostics.md#cnn0014", text);
            _output.WriteLine("the broken consumer's build: " + text.Split('\n').First(l => l.Contains("CNN0014")).Trim());

            // A compiler older than the generator's Roslyn: a clear error, not a class silently missing its members.
            (code, text) = Run(good, "dotnet", "build", "-c", "Release", "-p:NETCoreSdkVersion=8.0.400");
            Assert.NotEqual(0, code);
            Assert.Contains("error CNNGEN0001", text);
            Assert.Contains("9.0.300", text);
        }

        /// <summary>
        /// README's install commands, as written, from a folder outside the clone, with an empty package cache
        /// (NUGET_PACKAGES): they leave an app that restores, builds and runs — and restores again once the cache is emptied
        /// (the NU1101 that <c>dotnet add package --source</c> alone leads to).
        /// </summary>
        [Fact]
        public void TheReadmeInstallCommands_WorkFromAnyFolder_WithAnEmptyPackageCache()
        {
            string root = RepositoryRoot();
            string readme = File.ReadAllText(Path.Combine(root, "README.md")).Replace("\r\n", "\n");
            int install = readme.IndexOf("## Install", StringComparison.Ordinal);
            int start = readme.IndexOf("```bash\n", install, StringComparison.Ordinal) + "```bash\n".Length;
            string commands = readme.Substring(start, readme.IndexOf("```", start, StringComparison.Ordinal) - start);

            // The README's placeholders: the clone, a packages folder and an app, all outside the clone here.
            string packages = Path.Combine(_folder, "cnngen-packages"), app = Path.Combine(_folder, "src", "MyApp"), cache = Path.Combine(_folder, "empty-cache");
            Directory.CreateDirectory(app);
            Directory.CreateDirectory(cache);
            File.WriteAllText(Path.Combine(_folder, "Directory.Build.props"), "<Project />");
            var environment = new[] { ("NUGET_PACKAGES", cache), ("HOME", Environment.GetEnvironmentVariable("HOME") ?? _folder) };
            var (code, text) = Run(app, environment, "dotnet", "new", "console", "--framework", "net10.0", "--force");
            Assert.True(code == 0, text);
            File.WriteAllText(Path.Combine(app, "Program.cs"), "using CnnGen;\n\nSystem.Console.WriteLine(LeNet5.ParameterCount);\n\n" + Network + "\n");

            string script = "set -e\n" + commands
                .Replace("cd cnngen ", "cd '" + root + "' ", StringComparison.Ordinal)
                .Replace("~/cnngen-packages", "'" + packages + "'", StringComparison.Ordinal)
                .Replace("~/src/MyApp", "'" + app + "'", StringComparison.Ordinal);
            Assert.DoesNotContain("~", script);
            _output.WriteLine(script);
            (code, text) = Run(_folder, environment, "bash", "-c", script);
            Assert.True(code == 0, text);

            (code, text) = Run(app, environment, "dotnet", "run");
            Assert.True(code == 0, text);
            Assert.Contains("61706", text);

            // A clean machine: the cache emptied, the next restore still finds the package through the app's nuget.config.
            Directory.Delete(cache, recursive: true);
            Directory.CreateDirectory(cache);
            (code, text) = Run(app, environment, "dotnet", "restore", "--force");
            Assert.True(code == 0, text);
            Assert.True(Directory.Exists(Path.Combine(cache, "cnngen", "0.1.0")), text);
            Assert.True(File.Exists(Path.Combine(cache, "cnngen", "0.1.0", "docs", "diagnostics.md")), "the package carries docs/diagnostics.md");
        }

        /// <summary>A console project in its own folder that takes CnnGen 0.1.0 from <paramref name="packages"/> only, with a private package cache.</summary>
        private string Consumer(string name, string declarations, string main, string packages)
        {
            string folder = Path.Combine(_folder, name);
            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, name + ".csproj"), $"""
                <Project Sdk="Microsoft.NET.Sdk">
                  <PropertyGroup>
                    <OutputType>Exe</OutputType>
                    <TargetFramework>net10.0</TargetFramework>
                    <Nullable>enable</Nullable>
                    <RestorePackagesPath>{Path.Combine(_folder, "cache")}</RestorePackagesPath>
                  </PropertyGroup>
                  <ItemGroup>
                    <PackageReference Include="CnnGen" Version="0.1.0" />
                  </ItemGroup>
                </Project>
                """);
            File.WriteAllText(Path.Combine(folder, "nuget.config"), $"""
                <?xml version="1.0" encoding="utf-8"?>
                <configuration>
                  <packageSources>
                    <clear />
                    <add key="local" value="{packages}" />
                  </packageSources>
                </configuration>
                """);
            File.WriteAllText(Path.Combine(folder, "Program.cs"), "using CnnGen;\n\n" + main + "\n\n" + declarations + "\n");
            // Keep the repository's Directory.Build.props out: the consumer stands alone.
            File.WriteAllText(Path.Combine(folder, "Directory.Build.props"), "<Project />");
            return folder;
        }

        private (int Code, string Output) Run(string directory, string file, params string[] arguments) =>
            Run(directory, Array.Empty<(string, string)>(), file, arguments);

        private (int Code, string Output) Run(string directory, (string Name, string Value)[] environment, string file, params string[] arguments)
        {
            var start = new ProcessStartInfo(file) { WorkingDirectory = directory, RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var argument in arguments) start.ArgumentList.Add(argument);
            foreach (var (name, value) in environment) start.Environment[name] = value;
            start.Environment["MSBUILDDISABLENODEREUSE"] = "1";
            using var process = Process.Start(start)!;
            var error = process.StandardError.ReadToEndAsync();
            string output = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            return (process.ExitCode, output + error.Result);
        }

        private static string RepositoryRoot([CallerFilePath] string path = "") =>
            Path.GetFullPath(Path.Combine(Path.GetDirectoryName(path)!, "..", ".."));
    }
}
