using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/CnnGen.Benchmarks -- --filter '*'   (or -- train-cpu: TrainCpu.cs)
if (args.Length > 0 && args[0] == "train-cpu")
{
    CnnGen.Benchmarks.TrainCpu.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(CnnGen.Benchmarks.LeNet5Benchmarks).Assembly).Run(args);
