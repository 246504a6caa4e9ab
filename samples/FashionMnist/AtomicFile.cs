using System;
using System.IO;
using System.Security.Cryptography;
using System.Text.RegularExpressions;

namespace FashionMnist
{
    /// <summary>
    /// Output files written whole or not at all: the bytes go to a temporary file beside the target (named as
    /// <see cref="CnnGen.IO.SafeTensorsWriter"/> names its own: <c>.NAME.HEX.tmp</c>), flushed, then renamed over it. A full
    /// disk or a crash leaves the previous file or none, never a truncated one; the temporary is deleted on failure, and
    /// what a killed process leaves is removed by the next run (<see cref="RemoveStaleTemporaries"/>).
    /// </summary>
    public static class AtomicFile
    {
        public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
        {
            string fullPath = Path.GetFullPath(path);
            string folder = Path.GetDirectoryName(fullPath)!;
            string temp = Path.Combine(folder, "." + Path.GetFileName(fullPath) + "." + Convert.ToHexString(RandomNumberGenerator.GetBytes(6)) + ".tmp");
            try
            {
                using (var stream = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None))
                {
                    stream.Write(bytes);
                    stream.Flush(flushToDisk: true);
                }
                File.Move(temp, fullPath, overwrite: true);
            }
            catch
            {
                try { File.Delete(temp); } catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
                throw;
            }
        }

        /// <summary>
        /// Deletes the temporary files a killed writer of one of <paramref name="names"/> left in <paramref name="folder"/>
        /// (<c>.NAME.</c> + 12 hex digits + <c>.tmp</c>); nothing else is touched. Returns how many were removed.
        /// </summary>
        public static int RemoveStaleTemporaries(string folder, params string[] names)
        {
            int removed = 0;
            foreach (var name in names)
            {
                var pattern = new Regex("^\\." + Regex.Escape(name) + "\\.[0-9A-F]{12}\\.tmp$", RegexOptions.CultureInvariant);
                foreach (var file in Directory.EnumerateFiles(folder, "." + name + ".*.tmp"))
                {
                    if (!pattern.IsMatch(Path.GetFileName(file))) continue;
                    try
                    {
                        File.Delete(file);
                        removed++;
                    }
                    catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                    {
                        // Another process's write in progress, or no permission: leave it.
                    }
                }
            }
            return removed;
        }
    }
}
