using System;
using System.IO;
using System.Runtime.InteropServices;

namespace CnnGen.IO
{
    /// <summary>
    /// Checks a path names a regular file before it is opened for reading. Opening a named pipe (FIFO) with no writer
    /// blocks forever, a pipe or device has no length and may never end; the readers refuse them up front instead.
    /// </summary>
    public static partial class InputFiles
    {
        /// <summary>
        /// What <paramref name="path"/> is when it exists and is not a regular file ("a directory", "a named pipe (FIFO)",
        /// "a socket", "a character device", "a block device"), or null when it is a regular file, does not exist, or the
        /// platform cannot tell (the open that follows reports those).
        /// </summary>
        public static string? DescribeIfNotRegular(string path)
        {
            ArgumentNullException.ThrowIfNull(path);
            if (Directory.Exists(path)) return "a directory";
            if (OperatingSystem.IsWindows() || OperatingSystem.IsBrowser()) return null;
            int mode;
            try
            {
                mode = UnixMode(path);
            }
            catch (Exception error) when (error is DllNotFoundException or EntryPointNotFoundException or MarshalDirectiveException)
            {
                return null;
            }
            return (mode & 0xF000) switch
            {
                -1 => null,
                0x8000 => null,                 // regular file
                0x4000 => "a directory",
                0x1000 => "a named pipe (FIFO)",
                0xC000 => "a socket",
                0x2000 => "a character device",
                0x6000 => "a block device",
                _ => null,
            };
        }

        /// <summary>The file's mode with the runtime's own (platform-neutral) file type bits, following links; -1 when stat fails.</summary>
        private static unsafe int UnixMode(string path)
        {
            // The runtime's FileStatus struct: int Flags, int Mode, ... (System.Native/pal_io.h); generously sized.
            byte* status = stackalloc byte[256];
            if (SystemNativeStat(path, status) != 0) return -1;
            return ((int*)status)[1] & 0xF000;
        }

        [LibraryImport("libSystem.Native", EntryPoint = "SystemNative_Stat", StringMarshalling = StringMarshalling.Utf8)]
        private static unsafe partial int SystemNativeStat(string path, byte* status);
    }
}
