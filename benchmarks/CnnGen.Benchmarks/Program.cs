using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/CnnGen.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(CnnGen.Benchmarks.LeNet5Benchmarks).Assembly).Run(args);
