using BenchmarkDotNet.Running;

// dotnet run -c Release --project benchmarks/CnnGen.Benchmarks -- --filter '*'   (or -- train-cpu, -- train-loop resnet8 2 10, -- train-threads resnet8 20 1,2,4: TrainCpu.cs; -- zoo [probes|batch|sweep|sweep2|sweep3|sweep4] [name part], -- zoo loop [name part] [seconds] [ort|ort-profile]: Zoo.cs)
if (args.Length >= 2 && args[0] == "zoo" && args[1] == "loop")
{
    CnnGen.Benchmarks.ZooComparison.Loop(args.Length > 2 ? args[2] : "ResNeXt", args.Length > 3 ? double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture) : 10,
        args.Length > 4 && args[4].StartsWith("ort", System.StringComparison.Ordinal), args.Length > 4 && args[4] == "ort-profile");
    return;
}
if (args.Length > 0 && args[0] == "zoo")
{
    bool probes = args.Length > 1 && args[1] == "probes", batch = args.Length > 1 && args[1] == "batch", sweep = args.Length > 1 && args[1] == "sweep", sweep2 = args.Length > 1 && args[1] == "sweep2", sweep3 = args.Length > 1 && args[1] == "sweep3", sweep4 = args.Length > 1 && args[1] == "sweep4";
    CnnGen.Benchmarks.ZooComparison.Run(probes, batch, only: args.Length > (probes || batch || sweep || sweep2 || sweep3 || sweep4 ? 2 : 1) ? args[^1] : null, sweep, sweep2, sweep3, sweep4);
    return;
}
if (args.Length > 0 && args[0] == "train-cpu")
{
    CnnGen.Benchmarks.TrainCpu.Run();
    return;
}
if (args.Length == 4 && args[0] == "train-threads")
{
    CnnGen.Benchmarks.TrainCpu.ThreadCounts(args[1], double.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture), System.Array.ConvertAll(args[3].Split(','), int.Parse));
    return;
}
if (args.Length is 4 or 5 && args[0] == "train-loop")
{
    CnnGen.Benchmarks.TrainCpu.Loop(args[1], int.Parse(args[2]), double.Parse(args[3], System.Globalization.CultureInfo.InvariantCulture), args.Length == 5 ? int.Parse(args[4]) : 64);
    return;
}
BenchmarkSwitcher.FromAssembly(typeof(CnnGen.Benchmarks.LeNet5Benchmarks).Assembly).Run(args);
