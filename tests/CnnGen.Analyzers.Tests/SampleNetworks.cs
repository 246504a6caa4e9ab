namespace CnnGen.Analyzers.Tests
{
    /// <summary>
    /// The sample networks of <c>tests/CnnGen.Tests/FixtureNetworks.cs</c> (copied: that file belongs to the runtime tests),
    /// one declaration each, as fuzz seeds and for the incrementality and timing tests.
    /// </summary>
    public static class SampleNetworks
    {
        public static readonly string[] All =
        {
            """
            using CnnGen;

            [Network(1, 28, 28)]
            [Conv2d(6, 5, Padding = 2)]
            [ReLU]
            [MaxPool(2)]
            [Conv2d(16, 5)]
            [ReLU]
            [MaxPool(2)]
            [Flatten]
            [Linear(120)]
            [ReLU]
            [Linear(84)]
            [ReLU]
            [Linear(10)]
            public partial class LeNet5 { }
            """,
            """
            using CnnGen;

            [Network(3, 17, 17)]
            [Conv2d(8, 3, Stride = 2, Padding = 1)]
            [Tanh]
            [Conv2d(4, 3, Stride = 2, Bias = false)]
            [Sigmoid]
            [Flatten]
            [Linear(5)]
            public partial class Strided { }
            """,
            """
            using CnnGen;

            [Network(2, 12, 12)]
            [Conv2d(4, 3, Padding = 1)]
            [MaxPool(2, Padding = 1)]
            [Conv2d(6, 3, Padding = 1)]
            [AvgPool(3, Stride = 2, Padding = 1)]
            [Flatten]
            [Linear(3)]
            public partial class PaddedPools { }
            """,
            """
            using CnnGen;

            [Network(3, 15, 15)]
            [Conv2d(8, 3)]
            [ReLU]
            [MaxPool(3, Stride = 2)]
            [Conv2d(8, 1)]
            [LeakyReLU(0.1)]
            [AvgPool(3, Stride = 2)]
            [Flatten]
            [Linear(4)]
            public partial class OverlappingPool { }
            """,
            """
            using CnnGen;

            [Network(1, 20, 12)]
            [Conv2d(4, 3)]
            [MaxPool(2)]
            [Conv2d(5, 3, Stride = 2, Padding = 1)]
            [LeakyReLU]
            [Flatten]
            [Linear(7)]
            [Softmax]
            public partial class NonSquare { }
            """,
            """
            using CnnGen;

            [Network(3, 10, 10)]
            [Conv2d(6, 3, Padding = 1, Bias = false)]
            [BatchNorm]
            [ReLU]
            [MaxPool(2)]
            [Conv2d(8, 3)]
            [BatchNorm(Eps = 1e-3, Momentum = 0.2)]
            [Tanh]
            [Flatten]
            [Linear(16)]
            [BatchNorm]
            [Sigmoid]
            [Linear(4)]
            public partial class BatchNormNet { }
            """,
            """
            using CnnGen;

            [Network(2, 8, 8)]
            [Conv2d(3, 3, Padding = 1)]
            [Sigmoid]
            [Conv2d(3, 3, Padding = 1)]
            [Tanh]
            [Conv2d(3, 1)]
            [LeakyReLU(0.2)]
            [Flatten]
            [Dropout(0.3)]
            [Linear(10)]
            [ReLU]
            [Linear(3)]
            [Softmax]
            public partial class Activations { }
            """,
            """
            using CnnGen;

            [Network(1, 6, 6)]
            [MaxPool(2, Stride = 1)]
            [Conv2d(2, 2)]
            [ReLU]
            [MaxPool(2)]
            [Flatten]
            [Linear(2)]
            public partial class MaxPoolTies { }
            """,
        };
    }
}
