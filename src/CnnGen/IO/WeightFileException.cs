using System;
using System.IO;

namespace CnnGen.IO
{
    /// <summary>
    /// A weight file that cannot be read, or that does not fit the network it is loaded into. The message names the
    /// file, the key (when one is at fault) and the problem, e.g.
    /// <c>Weight file 'lenet.safetensors': key '3.weight': expected shape [16, 6, 5, 5], found [16, 6, 3, 3]</c>.
    /// </summary>
    /// <remarks>
    /// Derives from <see cref="IOException"/>: <see cref="InvalidDataException"/>, the closer fit, is sealed. One
    /// <c>catch (IOException)</c> around a load thus covers a missing file and a bad one, as for
    /// <c>CnnGen.Data.DataFileException</c>.
    /// </remarks>
    public sealed class WeightFileException : IOException
    {
        /// <summary>Creates the exception; the message is composed from the three parts.</summary>
        /// <param name="filePath">The file (or the source name given for bytes) the problem was found in.</param>
        /// <param name="tensorName">The key at fault, or null when the problem is the file's as a whole.</param>
        /// <param name="problem">What is wrong, with the expected and the found values.</param>
        /// <param name="innerException">The underlying error (a JSON syntax error, ...), if any.</param>
        public WeightFileException(string filePath, string? tensorName, string problem, Exception? innerException = null)
            : base(Compose(filePath, tensorName, problem), innerException)
        {
            FilePath = filePath;
            TensorName = tensorName;
            Problem = problem;
        }

        /// <summary>The file (or the source name given for bytes) the problem was found in.</summary>
        public string FilePath { get; }

        /// <summary>The key at fault, or null when the problem is the file's as a whole (truncated, bad header, ...).</summary>
        public string? TensorName { get; }

        /// <summary>The problem alone, without the file and key prefix.</summary>
        public string Problem { get; }

        private static string Compose(string filePath, string? tensorName, string problem) => tensorName is null
            ? $"Weight file '{filePath}': {problem}"
            : $"Weight file '{filePath}': key '{tensorName}': {problem}";
    }
}
