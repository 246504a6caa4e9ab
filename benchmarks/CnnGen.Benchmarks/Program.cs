using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/CnnGen.Benchmarks -- --filter '*'   (or -- train-cpu: TrainCpu.cs; -- zoo: Zoo.cs)
if (args.Length > 0 && args[0] == "zoo")
{
    CnnGen.Benchmarks.ZooComparison.Run(probes: args.Length > 1 && args[1] == "probes");
    return;
}
if (args.Length > 0 && args[0] == "train-cpu")
{
    CnnGen.Benchmarks.TrainCpu.Run();
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(CnnGen.Benchmarks.LeNet5Benchmarks).Assembly).Run(args);
