using CnnGen;

namespace FashionMnist
{
    /// <summary>LeNet-5 as in the course notes: two 5x5 convolutions with max pooling, then three linear layers.</summary>
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
}

namespace FashionMnist
{
    /// <summary>LeNet-5 with a five-class head: the transfer-learning experiment (<c>transfer</c>) trains it on five classes, then on the other five.</summary>
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
    [Linear(5)]
    public partial class LeNet5Five { }
}
