using CnnGen;

namespace Scenes
{
    /// <summary>
    /// The segmentation network: a small U-Net on the 64x64 scene. Four levels (64, 32, 16, 8); each decoder level
    /// concatenates the encoder's features of its size (a <c>[Concat]</c> whose first branch is the identity); the 8x8 and
    /// 16x16 levels come back up by transposed convolutions, the 32x32 level by bilinear upsampling. The full-size level
    /// is kept cheap (1x1 convolutions after the skip). Output: 11 logits per pixel (background and the ten classes).
    /// </summary>
    [Network(1, 64, 64)]
    [Conv2d(8, 3, Padding = 1)]
    [ReLU]
    [Concat]
    [Branch]
    [Branch]
        [MaxPool(2)]
        [Conv2d(16, 3, Padding = 1)]
        [ReLU]
        [Concat]
        [Branch]
        [Branch]
            [MaxPool(2)]
            [Conv2d(32, 3, Padding = 1)]
            [ReLU]
            [Concat]
            [Branch]
            [Branch]
                [MaxPool(2)]
                [Conv2d(64, 3, Padding = 1)]
                [ReLU]
                [Conv2d(64, 3, Padding = 1)]
                [ReLU]
                [ConvTranspose2d(32, 2, Stride = 2)]
            [End]
            [Conv2d(32, 3, Padding = 1)]
            [ReLU]
            [ConvTranspose2d(16, 2, Stride = 2)]
        [End]
        [Conv2d(16, 3, Padding = 1)]
        [ReLU]
        [Upsample(2, Mode = UpsampleMode.Bilinear)]
    [End]
    [Conv2d(16, 1)]
    [ReLU]
    [Conv2d(11, 1)]
    public partial class SceneUNet { }

    /// <summary>
    /// The detector: a single-shot grid detector (YOLO v1 in spirit). Four 3x3 convolutions with pooling bring the
    /// 64x64 scene to an 8x8 grid of cells, 8 pixels each; a 1x1 convolution gives each cell 16 numbers:
    /// 2 objectness logits (no object, object), 10 class logits, and the box (x, y offsets of its centre in the cell,
    /// width and height over 64).
    /// </summary>
    [Network(1, 64, 64)]
    [Conv2d(16, 3, Padding = 1)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(32, 3, Padding = 1)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(32, 3, Padding = 1)]
    [ReLU]
    [MaxPool(2)]
    [Conv2d(64, 3, Padding = 1)]
    [ReLU]
    [Conv2d(64, 3, Padding = 1)]
    [ReLU]
    [Conv2d(16, 1)]
    public partial class GridDetector { }
}
