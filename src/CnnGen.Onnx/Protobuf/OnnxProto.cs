using System.Collections.Generic;
using CnnGen.Onnx.Graph;

namespace CnnGen.Onnx.Protobuf
{
    /// <summary>
    /// The in-memory graph as ONNX's protobuf messages. Field numbers are those of onnx/onnx.proto (proto2), written
    /// out here for the subset the exporter uses: ModelProto, OperatorSetIdProto, GraphProto, NodeProto, AttributeProto,
    /// TensorProto, ValueInfoProto, TypeProto(.Tensor), TensorShapeProto(.Dimension).
    /// </summary>
    internal static class OnnxProto
    {
        /// <summary>IR version 8 (ONNX 1.10 to 1.12): understood by every ONNX Runtime since 1.10.</summary>
        public const long IrVersion = 8;
        /// <summary>The default (ai.onnx) operator set the graph is written against.</summary>
        public const long OpsetVersion = 17;

        private static class Model
        {
            public const int IrVersion = 1, ProducerName = 2, ProducerVersion = 3, Domain = 4, ModelVersion = 5, DocString = 6, Graph = 7, OpsetImport = 8, MetadataProps = 14;
        }

        private static class OperatorSetId
        {
            public const int Domain = 1, Version = 2;
        }

        private static class StringStringEntry
        {
            public const int Key = 1, Value = 2;
        }

        private static class GraphFields
        {
            public const int Node = 1, Name = 2, Initializer = 5, DocString = 10, Input = 11, Output = 12;
        }

        private static class Node
        {
            public const int Input = 1, Output = 2, Name = 3, OpType = 4, Attribute = 5, DocString = 6, Domain = 7;
        }

        private static class Attribute
        {
            public const int Name = 1, F = 2, I = 3, S = 4, Floats = 7, Ints = 8, Type = 20;
        }

        private static class Tensor
        {
            public const int Dims = 1, DataType = 2, Name = 8, RawData = 9, DocString = 12;
        }

        private static class ValueInfo
        {
            public const int Name = 1, Type = 2, DocString = 3;
        }

        private static class TypeFields
        {
            public const int TensorType = 1;
            public const int TensorElemType = 1, TensorShape = 2;
        }

        private static class Shape
        {
            public const int Dim = 1;
            public const int DimValue = 1, DimParam = 2;
        }

        /// <summary>The symbolic name of the batch axis.</summary>
        public const string BatchDimension = "N";

        public static ProtoMessage ModelMessage(OnnxGraph graph, string producerVersion, string? docString, IReadOnlyDictionary<string, string>? metadata)
        {
            var model = new ProtoMessage()
                .Varint(Model.IrVersion, IrVersion)
                .String(Model.ProducerName, "CnnGen.Onnx")
                .String(Model.ProducerVersion, producerVersion)
                .Varint(Model.ModelVersion, 1);
            if (docString is not null) model.String(Model.DocString, docString);
            model.Message(Model.Graph, GraphMessage(graph));
            model.Message(Model.OpsetImport, new ProtoMessage().String(OperatorSetId.Domain, "").Varint(OperatorSetId.Version, OpsetVersion));
            if (metadata is not null)
                foreach (var (key, value) in metadata)
                    model.Message(Model.MetadataProps, new ProtoMessage().String(StringStringEntry.Key, key).String(StringStringEntry.Value, value));
            return model;
        }

        public static ProtoMessage GraphMessage(OnnxGraph graph)
        {
            var message = new ProtoMessage();
            foreach (var node in graph.Nodes) message.Message(GraphFields.Node, NodeMessage(node));
            message.String(GraphFields.Name, graph.Name);
            foreach (var initializer in graph.Initializers) message.Message(GraphFields.Initializer, TensorMessage(initializer));
            if (graph.DocString is not null) message.String(GraphFields.DocString, graph.DocString);
            foreach (var input in graph.Inputs) message.Message(GraphFields.Input, ValueInfoMessage(input));
            foreach (var output in graph.Outputs) message.Message(GraphFields.Output, ValueInfoMessage(output));
            return message;
        }

        public static ProtoMessage NodeMessage(OnnxNode node)
        {
            var message = new ProtoMessage();
            foreach (var input in node.Inputs) message.String(Node.Input, input);
            foreach (var output in node.Outputs) message.String(Node.Output, output);
            message.String(Node.Name, node.Name).String(Node.OpType, node.OpType);
            foreach (var attribute in node.Attributes) message.Message(Node.Attribute, AttributeMessage(attribute));
            if (node.DocString is not null) message.String(Node.DocString, node.DocString);
            return message;
        }

        public static ProtoMessage AttributeMessage(OnnxAttribute attribute)
        {
            var message = new ProtoMessage().String(Attribute.Name, attribute.Name).Varint(Attribute.Type, (long)attribute.Type);
            switch (attribute.Type)
            {
                case OnnxAttributeType.Int: message.Varint(Attribute.I, attribute.Int); break;
                case OnnxAttributeType.Float: message.Float(Attribute.F, attribute.Float); break;
                case OnnxAttributeType.String: message.String(Attribute.S, attribute.String!); break;
                case OnnxAttributeType.Ints: foreach (long v in attribute.Ints) message.Varint(Attribute.Ints, v); break;
                case OnnxAttributeType.Floats: foreach (float v in attribute.Floats) message.Float(Attribute.Floats, v); break;
            }
            return message;
        }

        public static ProtoMessage TensorMessage(OnnxInitializer tensor)
        {
            var message = new ProtoMessage();
            foreach (long d in tensor.Dims) message.Varint(Tensor.Dims, d);
            message.Varint(Tensor.DataType, (long)tensor.DataType).String(Tensor.Name, tensor.Name).Bytes(Tensor.RawData, tensor.RawData);
            if (tensor.DocString is not null) message.String(Tensor.DocString, tensor.DocString);
            return message;
        }

        public static ProtoMessage ValueInfoMessage(OnnxValueInfo value)
        {
            var tensorType = new ProtoMessage().Varint(TypeFields.TensorElemType, (long)value.DataType);
            if (value.Dims is not null)
            {
                var shape = new ProtoMessage();
                foreach (long? d in value.Dims)
                    shape.Message(Shape.Dim, d is { } size ? new ProtoMessage().Varint(Shape.DimValue, size) : new ProtoMessage().String(Shape.DimParam, BatchDimension));
                tensorType.Message(TypeFields.TensorShape, shape);
            }
            var message = new ProtoMessage().String(ValueInfo.Name, value.Name).Message(ValueInfo.Type, new ProtoMessage().Message(TypeFields.TensorType, tensorType));
            if (value.DocString is not null) message.String(ValueInfo.DocString, value.DocString);
            return message;
        }
    }
}
