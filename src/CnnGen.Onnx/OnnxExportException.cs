using System;
using System.IO;

namespace CnnGen.Onnx
{
    /// <summary>
    /// An ONNX file could not be written (the folder is missing or read-only, the disk is full, the name is a folder).
    /// The message names the file; the file at that path, if there was one, is as it was, and no temporary file is left.
    /// </summary>
    public sealed class OnnxExportException : IOException
    {
        public OnnxExportException(string path, string message, Exception? inner = null) : base(message, inner) => FilePath = path;

        /// <summary>The path the file was to be written to.</summary>
        public string FilePath { get; }
    }
}
