using System;
using System.Runtime.InteropServices;
using System.Threading;
using FashionMnist;

// The main job: train LeNet-5 on Fashion-MNIST (the default command), evaluate saved weights, classify an image.
// Ctrl+C (or SIGTERM) asks training to stop at the next step boundary; a second Ctrl+C quits at once.
using var stop = new CancellationTokenSource();
int presses = 0;
Console.CancelKeyPress += (_, e) =>
{
    if (Interlocked.Increment(ref presses) > 1) return; // the second press ends the process
    e.Cancel = true;
    stop.Cancel();
};
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
{
    context.Cancel = true;
    stop.Cancel();
});

int code = Cli.Run(args, Console.Out, Console.Error, stop.Token);
if (!Console.IsOutputRedirected) Console.Out.Write("\u001b[?25h"); // the cursor, in case a progress display hid it
return code;
