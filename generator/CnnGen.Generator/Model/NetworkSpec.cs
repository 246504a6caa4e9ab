using CnnGen.Generator.Helpers;
using CnnGen.Shapes;

namespace CnnGen.Generator.Model
{
    /// <summary>
    /// A network declaration as the parser read it: plain values only, no symbols, syntax or locations,
    /// so the incremental pipeline can compare it with the previous run's.
    /// </summary>
    internal sealed record NetworkSpec(
        string? Namespace,
        EquatableArray<ContainingType> ContainingTypes,
        string ClassName,
        int Channels,
        int Height,
        int Width,
        EquatableArray<LayerSpec> Layers)
    {
        /// <summary>Name for the generated file: unique per type, safe as a path.</summary>
        public string HintName
        {
            get
            {
                var name = new System.Text.StringBuilder();
                if (Namespace is not null) name.Append(Namespace).Append('.');
                foreach (var type in ContainingTypes) name.Append(type.Name).Append('.');
                name.Append(ClassName);
                foreach (char bad in new[] { '<', '>', ',', ' ' }) name.Replace(bad, '_');
                return name.Append(".g.cs").ToString();
            }
        }
    }

    /// <summary>A type the network class is nested in, outermost first: <c>partial class Outer&lt;T&gt;</c>.</summary>
    internal sealed record ContainingType(string Keyword, string Name);

    /// <summary>The generated file, or null when the declaration is invalid.</summary>
    internal sealed record GeneratedSource(string HintName, string Text);
}
