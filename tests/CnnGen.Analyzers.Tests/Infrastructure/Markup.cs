using System;
using System.Collections.Generic;
using System.Text;
using Microsoft.CodeAnalysis.Text;

namespace CnnGen.Analyzers.Tests.Infrastructure
{
    /// <summary>An expected diagnostic: its ID and the exact span it must cover.</summary>
    public readonly record struct ExpectedDiagnostic(string Id, TextSpan Span);

    /// <summary>
    /// Inline markup for expected diagnostics, as ComputeSharp writes it: <c>{|CNN0010:Padding = -1|}</c> marks
    /// the span of a CNN0010. Markers do not nest; the text between them is the source as compiled.
    /// </summary>
    public static class Markup
    {
        public static (string Source, IReadOnlyList<ExpectedDiagnostic> Expected) Parse(string markup)
        {
            var source = new StringBuilder(markup.Length);
            var expected = new List<ExpectedDiagnostic>();
            int i = 0;
            while (i < markup.Length)
            {
                int open = markup.IndexOf("{|", i, StringComparison.Ordinal);
                if (open < 0)
                {
                    source.Append(markup, i, markup.Length - i);
                    break;
                }
                source.Append(markup, i, open - i);
                int colon = markup.IndexOf(':', open);
                int close = markup.IndexOf("|}", open, StringComparison.Ordinal);
                if (colon < 0 || close < 0 || colon > close)
                    throw new FormatException("Unterminated {|ID:...|} marker at " + open);
                string id = markup.Substring(open + 2, colon - open - 2);
                string content = markup.Substring(colon + 1, close - colon - 1);
                if (content.Contains("{|", StringComparison.Ordinal))
                    throw new FormatException("Nested markers are not supported: " + content);
                expected.Add(new ExpectedDiagnostic(id, new TextSpan(source.Length, content.Length)));
                source.Append(content);
                i = close + 2;
            }
            return (source.ToString(), expected);
        }
    }
}
