using System;
using System.Globalization;
using System.Text;

namespace CnnGen.Generator.Helpers
{
    /// <summary>Writes C# with indentation; every number through the invariant culture.</summary>
    internal sealed class IndentedWriter
    {
        private readonly StringBuilder _text = new();
        private int _depth;

        public IndentedWriter Line(string line = "")
        {
            if (line.Length > 0) _text.Append(' ', _depth * 4).Append(line);
            _text.Append('\n');
            return this;
        }

        /// <summary>Writes <c>{</c>, indents, and closes the block when the result is disposed.</summary>
        public Block OpenBlock(string? header = null)
        {
            if (header is not null) Line(header);
            Line("{");
            _depth++;
            return new Block(this);
        }

        private void CloseBlock(string suffix)
        {
            _depth--;
            Line("}" + suffix);
        }

        public void Indent() => _depth++;
        public void Outdent() => _depth--;

        public override string ToString() => _text.ToString();

        public readonly struct Block : IDisposable
        {
            private readonly IndentedWriter _writer;
            public Block(IndentedWriter writer) => _writer = writer;
            public void Dispose() => _writer.CloseBlock("");
        }
    }

    /// <summary>C# literals, culture-proof.</summary>
    internal static class Literal
    {
        public static string Int(int value) => value.ToString(CultureInfo.InvariantCulture);
        public static string Long(long value) => value.ToString(CultureInfo.InvariantCulture);

        public static string Float(double value)
        {
            float f = (float)value;
            // The analyzers keep non-finite values out; should one come anyway, it is still C#.
            if (float.IsNaN(f)) return "float.NaN";
            if (float.IsPositiveInfinity(f)) return "float.PositiveInfinity";
            if (float.IsNegativeInfinity(f)) return "float.NegativeInfinity";
            string text = f.ToString("R", CultureInfo.InvariantCulture);
            if (text.IndexOf('.') < 0 && text.IndexOf('E') < 0) text += ".0";
            return text + "f";
        }

        public static string String(string value)
        {
            var sb = new StringBuilder("\"");
            foreach (char c in value)
            {
                switch (c)
                {
                    case '"': sb.Append("\\\""); break;
                    case '\\': sb.Append("\\\\"); break;
                    case '\n': sb.Append("\\n"); break;
                    case '\r': sb.Append("\\r"); break;
                    case '\t': sb.Append("\\t"); break;
                    default:
                        if (c < ' ') sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                        else sb.Append(c);
                        break;
                }
            }
            return sb.Append('"').ToString();
        }

        /// <summary>Escapes text for an XML doc comment.</summary>
        public static string Xml(string value) => value.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");

        /// <summary>
        /// An index expression <c>a * scale + offset</c> written as simply as the constants allow:
        /// <c>oy</c>, <c>oy * 2</c>, <c>oy - 2</c>, <c>oy * 2 - 1</c>.
        /// </summary>
        public static string Affine(string variable, int scale, int offset)
        {
            string term = scale == 1 ? variable : variable + " * " + Int(scale);
            if (offset == 0) return term;
            return offset > 0 ? term + " + " + Int(offset) : term + " - " + Int(-offset);
        }
    }
}
