using System;
using System.Collections.Generic;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Threading.Tasks;
using CnnGen;
using CnnGen.IO;

namespace Scenes
{
    /// <summary>One item of a scene: its Fashion-MNIST class (0-9) and the tight box around its ink, [X0, X1) x [Y0, Y1) in canvas pixels.</summary>
    public readonly record struct SceneItem(int Class, int X0, int Y0, int X1, int Y1)
    {
        public Box Box => new(X0, Y0, X1, Y1);
    }

    /// <summary>
    /// Scenes composed from Fashion-MNIST: a 64x64 canvas (black) holding 1 to 3 items of 28x28 pixels at random positions
    /// whose 28x28 frames do not overlap; pixels as bytes (0-255, as in the data set), per-pixel labels (0 background,
    /// class + 1 where the item's pixel is ink: a value above <see cref="InkThreshold"/>), and each item's box and class.
    /// </summary>
    public sealed class SceneSet
    {
        public const int Size = 64, Pixels = Size * Size, MaxItems = 3, ItemSize = 28, Classes = 11;

        /// <summary>A pixel is ink when its byte exceeds this (0.2 of full scale: 51/255).</summary>
        public const byte InkThreshold = 51;

        /// <summary>The detector's grid: 8x8 cells of 8x8 pixels. Items are placed so no two box centres share a cell.</summary>
        public const int Grid = 8, CellSize = Size / Grid;

        public SceneSet(int count)
        {
            Count = count;
            Images = new byte[count * Pixels];
            Labels = new byte[count * Pixels];
            Items = new SceneItem[count * MaxItems];
            ItemCounts = new int[count];
            SourceIndices = new int[count * MaxItems];
        }

        public int Count { get; }
        /// <summary>N x 64 x 64 bytes.</summary>
        public byte[] Images { get; }
        /// <summary>N x 64 x 64 per-pixel labels: 0 background, 1-10 class + 1.</summary>
        public byte[] Labels { get; }
        /// <summary>Up to <see cref="MaxItems"/> per scene, in the order placed; <see cref="ItemCounts"/> tells how many.</summary>
        public SceneItem[] Items { get; }
        public int[] ItemCounts { get; }
        /// <summary>The Fashion-MNIST index of each item (-1 past the scene's count).</summary>
        public int[] SourceIndices { get; }

        public ReadOnlySpan<SceneItem> ItemsOf(int scene) => Items.AsSpan(scene * MaxItems, ItemCounts[scene]);

        /// <summary>
        /// Composes <paramref name="count"/> scenes from <paramref name="images"/> (28x28 floats in [0, 1]) and their labels.
        /// Scene i depends on (seed, split, i) alone, so any subset and any thread count give the same scenes.
        /// </summary>
        public static SceneSet Compose(float[] images, int[] labels, int count, ulong seed, int split)
        {
            var set = new SceneSet(count);
            int sources = labels.Length;
            Parallel.For(0, count, i => ComposeOne(set, i, images, labels, sources, SceneSeed(seed, split, i)));
            return set;
        }

        public static ulong SceneSeed(ulong seed, int split, int index) =>
            seed * 0x9E3779B97F4A7C15UL ^ ((ulong)split << 48) ^ (ulong)index * 0xD1B54A32D192ED03UL;

        private static void ComposeOne(SceneSet set, int scene, float[] images, int[] labels, int sources, ulong seed)
        {
            var random = new CnnRandom(seed);
            var pixels = set.Images.AsSpan(scene * Pixels, Pixels);
            var mask = set.Labels.AsSpan(scene * Pixels, Pixels);
            int wanted = 1 + random.NextInt(MaxItems);
            Span<int> frameX = stackalloc int[MaxItems], frameY = stackalloc int[MaxItems], cells = stackalloc int[MaxItems];
            Span<byte> item = stackalloc byte[ItemSize * ItemSize];

            // The layout: frames drawn one after another, redrawn from scratch when one no longer fits (three 28x28 frames
            // fit in 64x64 only when the first two leave room), so the item count stays uniform over 1-3.
            int framed = 0;
            for (int layout = 0; layout < 100 && framed < wanted; layout++)
            {
                framed = 0;
                for (int attempt = 0; attempt < 50 && framed < wanted; attempt++)
                {
                    int x = random.NextInt(Size - ItemSize + 1), y = random.NextInt(Size - ItemSize + 1);
                    bool free = true;
                    for (int k = 0; k < framed; k++)
                        if (x < frameX[k] + ItemSize && frameX[k] < x + ItemSize && y < frameY[k] + ItemSize && frameY[k] < y + ItemSize) free = false;
                    if (!free) continue;
                    frameX[framed] = x;
                    frameY[framed] = y;
                    framed++;
                }
            }

            // The items: a random source image per frame, redrawn when it has no ink or its box centre's grid cell is taken.
            int placed = 0;
            for (int f = 0; f < framed; f++)
            {
                int x = frameX[f], y = frameY[f];
                for (int attempt = 0; attempt < 20; attempt++)
                {
                    int source = random.NextInt(sources);
                    int x0 = ItemSize, y0 = ItemSize, x1 = -1, y1 = -1;
                    for (int r = 0; r < ItemSize; r++)
                        for (int c = 0; c < ItemSize; c++)
                        {
                            byte v = (byte)MathF.Round(images[source * ItemSize * ItemSize + r * ItemSize + c] * 255f);
                            item[r * ItemSize + c] = v;
                            if (v > InkThreshold)
                            {
                                x0 = Math.Min(x0, c); x1 = Math.Max(x1, c);
                                y0 = Math.Min(y0, r); y1 = Math.Max(y1, r);
                            }
                        }
                    if (x1 < 0) continue; // no ink: not an item anyone could find
                    var box = new SceneItem(labels[source], x + x0, y + y0, x + x1 + 1, y + y1 + 1);
                    int cell = CellOf(box);
                    bool cellFree = true;
                    for (int k = 0; k < placed; k++) if (cells[k] == cell) cellFree = false;
                    if (!cellFree) continue;

                    for (int r = 0; r < ItemSize; r++)
                        for (int c = 0; c < ItemSize; c++)
                        {
                            byte v = item[r * ItemSize + c];
                            int at = (y + r) * Size + x + c;
                            pixels[at] = v;
                            mask[at] = v > InkThreshold ? (byte)(box.Class + 1) : (byte)0;
                        }
                    cells[placed] = cell;
                    set.Items[scene * MaxItems + placed] = box;
                    set.SourceIndices[scene * MaxItems + placed] = source;
                    placed++;
                    break;
                }
            }
            for (int k = placed; k < MaxItems; k++) set.SourceIndices[scene * MaxItems + k] = -1;
            set.ItemCounts[scene] = placed;
        }

        /// <summary>The grid cell (row * 8 + column) holding the centre of the item's box.</summary>
        public static int CellOf(SceneItem item)
        {
            int column = (item.X0 + item.X1) / 2 / CellSize, row = (item.Y0 + item.Y1) / 2 / CellSize;
            return row * Grid + column;
        }

        /// <summary>Scenes [start, start + n) as floats in [0, 1], NCHW.</summary>
        public void CopyImages(int start, int n, Span<float> destination)
        {
            var source = Images.AsSpan(start * Pixels, n * Pixels);
            for (int i = 0; i < source.Length; i++) destination[i] = source[i] * (1f / 255f);
        }

        public void CopyImage(int scene, Span<float> destination) => CopyImages(scene, 1, destination);

        public void CopyLabels(int scene, Span<int> destination)
        {
            var source = Labels.AsSpan(scene * Pixels, Pixels);
            for (int i = 0; i < source.Length; i++) destination[i] = source[i];
        }

        /// <summary>The tensors of this set under <paramref name="prefix"/> (train_ or test_): images and masks U8 [N, 64, 64], boxes I32 [N, 3, 4] (x0, y0, x1, y1; -1 past the count), classes I32 [N, 3] (-1 past the count), sources I32 [N, 3].</summary>
        public IEnumerable<SafeTensor> ToTensors(string prefix)
        {
            var boxes = new int[Count * MaxItems * 4];
            var classes = new int[Count * MaxItems];
            boxes.AsSpan().Fill(-1);
            classes.AsSpan().Fill(-1);
            for (int s = 0; s < Count; s++)
                for (int k = 0; k < ItemCounts[s]; k++)
                {
                    var item = Items[s * MaxItems + k];
                    classes[s * MaxItems + k] = item.Class;
                    boxes[(s * MaxItems + k) * 4 + 0] = item.X0;
                    boxes[(s * MaxItems + k) * 4 + 1] = item.Y0;
                    boxes[(s * MaxItems + k) * 4 + 2] = item.X1;
                    boxes[(s * MaxItems + k) * 4 + 3] = item.Y1;
                }
            yield return new SafeTensor(prefix + "images", "U8", new long[] { Count, Size, Size }, Images);
            yield return new SafeTensor(prefix + "masks", "U8", new long[] { Count, Size, Size }, Labels);
            yield return new SafeTensor(prefix + "boxes", SafeTensorDType.I32, new long[] { Count, MaxItems, 4 }, MemoryMarshal.AsBytes(boxes.AsSpan()).ToArray());
            yield return new SafeTensor(prefix + "classes", SafeTensorDType.I32, new long[] { Count, MaxItems }, MemoryMarshal.AsBytes(classes.AsSpan()).ToArray());
            yield return new SafeTensor(prefix + "sources", SafeTensorDType.I32, new long[] { Count, MaxItems }, MemoryMarshal.AsBytes(SourceIndices.AsSpan()).ToArray());
        }

        public static IReadOnlyDictionary<string, string> ExportMetadata(ulong seed, string folder) => new Dictionary<string, string>
        {
            ["seed"] = seed.ToString(CultureInfo.InvariantCulture),
            ["canvas"] = "64x64, 1-3 Fashion-MNIST items (28x28) per scene, frames not overlapping, box centres in distinct 8x8 cells",
            ["ink_threshold"] = "pixel byte > 51 (0.2 of 255): mask = class + 1, else 0",
            ["boxes"] = "x0, y0, x1, y1 in pixels, x1 and y1 exclusive; -1 past the scene's item count",
            ["source"] = folder,
        };
    }

    /// <summary>The training and test scenes of one run.</summary>
    public sealed record SceneData(SceneSet Train, SceneSet Test, string Folder)
    {
        public const int DefaultTrainScenes = 20_000, DefaultTestScenes = 2_000;

        public static SceneData Load(string? dataFolder, ulong seed, int trainScenes = DefaultTrainScenes, int testScenes = DefaultTestScenes)
        {
            var mnist = FashionMnist.FashionMnistData.Load(FashionMnist.FashionMnistData.Locate(dataFolder));
            return new SceneData(
                SceneSet.Compose(mnist.TrainImages, mnist.TrainLabels, trainScenes, seed, split: 0),
                SceneSet.Compose(mnist.TestImages, mnist.TestLabels, testScenes, seed, split: 1),
                mnist.Folder);
        }
    }
}
