using System;
using System.Collections.Generic;
using System.Globalization;

namespace CnnGen.Onnx.Graph
{
    /// <summary>An ONNX attribute value: one of int, float, string, ints, floats (the kinds the exporter writes).</summary>
    internal sealed class OnnxAttribute
    {
        private OnnxAttribute(string name, OnnxAttributeType type)
        {
            Name = name;
            Type = type;
        }

        public string Name { get; }
        public OnnxAttributeType Type { get; }
        public long Int { get; private init; }
        public float Float { get; private init; }
        public string? String { get; private init; }
        public IReadOnlyList<long> Ints { get; private init; } = Array.Empty<long>();
        public IReadOnlyList<float> Floats { get; private init; } = Array.Empty<float>();

        public static OnnxAttribute Of(string name, long value) => new(name, OnnxAttributeType.Int) { Int = value };
        public static OnnxAttribute Of(string name, float value) => new(name, OnnxAttributeType.Float) { Float = value };
        public static OnnxAttribute Of(string name, string value) => new(name, OnnxAttributeType.String) { String = value };
        public static OnnxAttribute Of(string name, params long[] values) => new(name, OnnxAttributeType.Ints) { Ints = values };
        public static OnnxAttribute Of(string name, params float[] values) => new(name, OnnxAttributeType.Floats) { Floats = values };

        public override string ToString() => Type switch
        {
            OnnxAttributeType.Int => Name + "=" + Int.ToString(CultureInfo.InvariantCulture),
            OnnxAttributeType.Float => Name + "=" + Float.ToString("R", CultureInfo.InvariantCulture),
            OnnxAttributeType.String => Name + "=\"" + String + "\"",
            OnnxAttributeType.Ints => Name + "=[" + string.Join(",", Ints) + "]",
            _ => Name + "=[" + string.Join(",", Floats) + "]",
        };
    }

    /// <summary>AttributeProto.AttributeType values (onnx.proto).</summary>
    internal enum OnnxAttributeType
    {
        Float = 1,
        Int = 2,
        String = 3,
        Floats = 6,
        Ints = 7,
    }

    /// <summary>TensorProto.DataType values the exporter uses (onnx.proto).</summary>
    internal enum OnnxDataType
    {
        Float = 1,
        Int64 = 7,
    }

    /// <summary>One operator application.</summary>
    internal sealed record OnnxNode(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs,
        IReadOnlyList<OnnxAttribute> Attributes, string? DocString)
    {
        public OnnxAttribute? Attribute(string name)
        {
            foreach (var attribute in Attributes) if (attribute.Name == name) return attribute;
            return null;
        }
    }

    /// <summary>A constant tensor: a weight (named by its PyTorch key) or a small constant an operator needs.</summary>
    internal sealed record OnnxInitializer(string Name, OnnxDataType DataType, long[] Dims, ReadOnlyMemory<byte> RawData, string? DocString = null);

    /// <summary>
    /// A graph input or output: name, element type and shape (a null dimension is the symbolic batch axis; null
    /// <paramref name="Dims"/> leaves the shape unstated).
    /// </summary>
    internal sealed record OnnxValueInfo(string Name, OnnxDataType DataType, IReadOnlyList<long?>? Dims, string? DocString = null);

    /// <summary>
    /// The graph being built, in memory and in order: nodes are appended topologically as the network is walked.
    /// Value and node names are made unique here, so the per-layer functions never have to coordinate names.
    /// </summary>
    internal sealed class OnnxGraph
    {
        private readonly HashSet<string> _valueNames = new(StringComparer.Ordinal);
        private readonly HashSet<string> _nodeNames = new(StringComparer.Ordinal);

        public OnnxGraph(string name) => Name = name;

        public string Name { get; }
        public string? DocString { get; set; }
        public List<OnnxNode> Nodes { get; } = new();
        public List<OnnxInitializer> Initializers { get; } = new();
        public List<OnnxValueInfo> Inputs { get; } = new();
        public List<OnnxValueInfo> Outputs { get; } = new();

        /// <summary>Reserves a value name (graph inputs, initializers), failing on a duplicate.</summary>
        public string Reserve(string name)
        {
            if (!_valueNames.Add(name)) throw new InvalidOperationException($"The ONNX value name '{name}' is used twice.");
            return name;
        }

        /// <summary>A fresh value name starting with <paramref name="stem"/>.</summary>
        public string NewValue(string stem)
        {
            string name = stem;
            for (int k = 1; !_valueNames.Add(name); k++) name = stem + "_" + k.ToString(CultureInfo.InvariantCulture);
            return name;
        }

        /// <summary>
        /// Appends a node with one output and returns the output's name, <c>{valueScope}/{opType}_output</c> made unique
        /// (PyTorch's exporter names values the same way). The node's name is made unique too.
        /// </summary>
        public string Add(string nodeName, string valueScope, string opType, IReadOnlyList<string> inputs, string? docString, params OnnxAttribute[] attributes)
        {
            string unique = NewNodeName(nodeName);
            string output = NewValue(valueScope + "/" + opType + "_output");
            Nodes.Add(new OnnxNode(unique, opType, inputs, new[] { output }, attributes, docString));
            return output;
        }

        /// <summary>
        /// Gives the value <paramref name="value"/> the name <paramref name="name"/> (the graph output): the node producing it
        /// is rewritten, or an Identity node is added when no node produces it (a graph input passed straight through).
        /// </summary>
        public string Rename(string value, string name)
        {
            if (value == name) return name;
            Reserve(name);
            for (int n = Nodes.Count - 1; n >= 0; n--)
            {
                var node = Nodes[n];
                int at = IndexOf(node.Outputs, value);
                if (at < 0) continue;
                bool consumed = false;
                foreach (var other in Nodes) consumed |= IndexOf(other.Inputs, value) >= 0;
                if (consumed) break;
                var outputs = new List<string>(node.Outputs) { [at] = name };
                Nodes[n] = node with { Outputs = outputs };
                return name;
            }
            Nodes.Add(new OnnxNode(NewNodeName("output"), "Identity", new[] { value }, new[] { name }, Array.Empty<OnnxAttribute>(), null));
            return name;

            static int IndexOf(IReadOnlyList<string> names, string wanted)
            {
                for (int i = 0; i < names.Count; i++) if (names[i] == wanted) return i;
                return -1;
            }
        }

        private string NewNodeName(string stem)
        {
            string unique = stem;
            for (int k = 1; !_nodeNames.Add(unique); k++) unique = stem + "_" + k.ToString(CultureInfo.InvariantCulture);
            return unique;
        }

        public void AddInitializer(OnnxInitializer initializer)
        {
            Reserve(initializer.Name);
            Initializers.Add(initializer);
        }

        /// <summary>
        /// A float initializer from a span of weights (copied: the network may change after export). A weight keeps its
        /// exact name (its PyTorch key); a constant an operator needs (<paramref name="exactName"/> false) gets a fresh name.
        /// </summary>
        public string AddFloats(string name, ReadOnlySpan<float> values, long[] dims, string? docString = null, bool exactName = true)
        {
            var bytes = new byte[values.Length * sizeof(float)];
            for (int i = 0; i < values.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * sizeof(float)), values[i]);
            string unique = exactName ? Reserve(name) : NewValue(name);
            Initializers.Add(new OnnxInitializer(unique, OnnxDataType.Float, dims, bytes, docString));
            return unique;
        }

        /// <summary>An int64 initializer (axes, shapes).</summary>
        public string AddInt64s(string name, ReadOnlySpan<long> values, long[] dims)
        {
            var bytes = new byte[values.Length * sizeof(long)];
            for (int i = 0; i < values.Length; i++)
                System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * sizeof(long)), values[i]);
            string unique = NewValue(name);
            Initializers.Add(new OnnxInitializer(unique, OnnxDataType.Int64, dims, bytes));
            return unique;
        }
    }
}
