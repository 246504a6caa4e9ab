using CnnGen.Shapes;
using Microsoft.CodeAnalysis;

namespace CnnGen.Generator.Diagnostics
{
    /// <summary>
    /// Every diagnostic CnnGen reports, one place. IDs are never reused or renumbered; a new rule takes the next
    /// free number and a line in <c>AnalyzerReleases.Unshipped.md</c>. Each rule's help link is its section of
    /// <c>docs/diagnostics.md</c>, which shows a broken declaration, the message and the fix.
    /// The shape rules' messages come whole from <see cref="ShapeInference"/> (the single source of shape truth),
    /// so their format is <c>{0}</c>; each XML doc below shows a message as the user sees it.
    /// </summary>
    public static class DiagnosticDescriptors
    {
        public const string DeclarationCategory = "CnnGen.Declaration";
        public const string ShapeCategory = "CnnGen.Shape";
        /// <summary>Cost budgets on <c>[Network]</c>. A network over budget is still generated: the error alone fails the build.</summary>
        public const string BudgetCategory = "CnnGen.Budget";

        /// <summary>
        /// Where the rules are explained: the repository's reference page on GitHub (also shipped in the package as
        /// <c>docs/diagnostics.md</c>); a rule's link is this plus its lower-case ID as the anchor.
        /// </summary>
        public const string HelpLinkBase = "https://github.com/cnngen/cnngen/blob/main/docs/diagnostics.md#";

        /// <summary>Key of the diagnostic property marking a CNN0023 for a block never closed, for the code fix that adds [End].</summary>
        public const string UnclosedBlockProperty = "UnclosedBlock";

        /// <summary>Key of the diagnostic property that carries the padding keeping the size (CNN0014), for the code fix.</summary>
        public const string SamePaddingProperty = "SamePadding";

        /// <summary>CNN0001: "Network class 'LeNet5' must be declared partial: the generator adds its members in another part".</summary>
        public static readonly DiagnosticDescriptor NetworkNotPartial = new(
            "CNN0001", "Network class must be partial",
            "Network class '{0}' must be declared partial: the generator adds its members in another part", DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0001");

        /// <summary>CNN0002: "Network class 'LeNet5' is nested in 'Models', which must be declared partial too".</summary>
        public static readonly DiagnosticDescriptor ContainingTypeNotPartial = new(
            "CNN0002", "Types containing a network class must be partial",
            "Network class '{0}' is nested in '{1}', which must be declared partial too", DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0002");

        /// <summary>CNN0003: "Network class 'Net&lt;T&gt;' cannot be generic: the generated code fixes every shape and type". Nesting in a generic type is fine.</summary>
        public static readonly DiagnosticDescriptor NetworkGeneric = new(
            "CNN0003", "Network class cannot be generic",
            "Network class '{0}' cannot be generic: the generated code fixes every shape and type", DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0003");

        /// <summary>CNN0004: "'Net' cannot be a network: [Network] goes on a non-static class, not on a static class".</summary>
        public static readonly DiagnosticDescriptor NetworkNotPlainClass = new(
            "CNN0004", "Network must be a non-static class",
            "'{0}' cannot be a network: [Network] goes on a non-static class, not on a {1}", DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0004");

        /// <summary>CNN0005: "'Net' has layer attributes but no [Network(channels, height, width)], so no network is generated".</summary>
        public static readonly DiagnosticDescriptor LayerWithoutNetwork = new(
            "CNN0005", "Layer attributes without [Network]",
            "'{0}' has layer attributes but no [Network(channels, height, width)], so no network is generated", DeclarationCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0005");

        /// <summary>CNN0006: "[Linear] is on another partial declaration of 'Net' than its [Network]; declare every layer on the [Network] declaration, where their order is defined".</summary>
        public static readonly DiagnosticDescriptor LayersSplitAcrossPartials = new(
            "CNN0006", "Layers split across partial declarations",
            "[{0}] is on another partial declaration of '{1}' than its [Network]; declare every layer on the [Network] declaration, where their order is defined", DeclarationCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0006");

        /// <summary>CNN0007: "Network has no layers: add layer attributes such as [Conv2d(6, 5)] or [Linear(10)] after [Network]".</summary>
        public static readonly DiagnosticDescriptor NoLayers = new(
            "CNN0007", "Network has no layers",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0007");

        /// <summary>CNN0008: "Network input must have positive channels, height and width; got 1x0x28".</summary>
        public static readonly DiagnosticDescriptor NonPositiveInput = new(
            "CNN0008", "Network input must be positive",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0008");

        /// <summary>CNN0009: "Conv2d (layer 0) needs a positive kernel size; got 0" (also out channels, stride, out features).</summary>
        public static readonly DiagnosticDescriptor NonPositiveArgument = new(
            "CNN0009", "Layer argument must be positive",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0009");

        /// <summary>CNN0010: "Conv2d (layer 0) needs a padding of 0 or more; got -1".</summary>
        public static readonly DiagnosticDescriptor NegativePadding = new(
            "CNN0010", "Padding cannot be negative",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0010");

        /// <summary>CNN0011: "Dropout (layer 3) needs a probability in [0, 1); got 1".</summary>
        public static readonly DiagnosticDescriptor ProbabilityOutOfRange = new(
            "CNN0011", "Dropout probability out of range",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0011");

        /// <summary>CNN0012: "BatchNorm2d (layer 1) needs a positive Eps; got 0" (or a Momentum in [0, 1]).</summary>
        public static readonly DiagnosticDescriptor InvalidBatchNormArgument = new(
            "CNN0012", "Invalid batch-norm argument",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0012");

        /// <summary>CNN0013: "LeakyReLU (layer 1) needs a finite negative slope; got NaN".</summary>
        public static readonly DiagnosticDescriptor NonFiniteSlope = new(
            "CNN0013", "LeakyReLU slope must be finite",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0013");

        /// <summary>CNN0014: "Conv2d (layer 3) sees 6x4x4; kernel 5 with padding 0 does not fit the padded 4x4 input, so the output would be 0x0".</summary>
        public static readonly DiagnosticDescriptor KernelLargerThanInput = new(
            "CNN0014", "Kernel larger than its padded input",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0014");

        /// <summary>CNN0015 (warning): "MaxPool2d (layer 2) sees 6x7x7; stride 2 with kernel 2 and padding 0 never reads the last 1 input row(s) and the last 1 input column(s): change the padding or the stride to use them".</summary>
        public static readonly DiagnosticDescriptor StrideDropsCells = new(
            "CNN0015", "Stride never reads some input rows or columns",
            "{0}", ShapeCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0015");

        /// <summary>CNN0016: "MaxPool2d (layer 1): padding 2 is more than half the kernel 2 (PyTorch rejects it); use at most 1".</summary>
        public static readonly DiagnosticDescriptor PoolPaddingTooLarge = new(
            "CNN0016", "Pooling padding over half the kernel",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0016");

        /// <summary>CNN0017: "Conv2d (layer 2) needs a CxHxW input but sees the vector 784 (after Flatten or Linear)".</summary>
        public static readonly DiagnosticDescriptor SpatialLayerOnVector = new(
            "CNN0017", "Spatial layer after Flatten or Linear",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0017");

        /// <summary>CNN0018: "Linear (layer 3) sees the spatial tensor 6x14x14; insert [Flatten] before it to get a vector of 1176".</summary>
        public static readonly DiagnosticDescriptor LinearNeedsFlatten = new(
            "CNN0018", "Linear needs Flatten before it",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0018");

        /// <summary>CNN0019: "Flatten (layer 4) sees the vector 1176, which is already flat".</summary>
        public static readonly DiagnosticDescriptor FlattenOnVector = new(
            "CNN0019", "Flatten of a vector",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0019");

        /// <summary>CNN0020 (warning): "Softmax (layer 2) is not the last layer; layers after it see probabilities, not logits".</summary>
        public static readonly DiagnosticDescriptor SoftmaxNotLast = new(
            "CNN0020", "Softmax is not the last layer",
            "{0}", ShapeCategory, DiagnosticSeverity.Warning, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0020");

        // CNN0021 ("Network output is not a vector") is retired: a network may end in a feature map (per-pixel outputs).

        /// <summary>CNN0022: "Linear (layer 1) is too large: more than 268,435,456 weights".</summary>
        public static readonly DiagnosticDescriptor TooLarge = new(
            "CNN0022", "Network too large",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0022");

        /// <summary>CNN0023: "[Residual] at attribute 3 is never closed: add [End] after its last layer".</summary>
        public static readonly DiagnosticDescriptor UnbalancedBlock = new(
            "CNN0023", "Block markers out of place",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0023");

        /// <summary>CNN0024: "Residual 3 adds its input 16x32x32 to its body's output 32x16x16: the body changes the shape, so give it a [Shortcut] ...".</summary>
        public static readonly DiagnosticDescriptor ResidualShapeMismatch = new(
            "CNN0024", "Residual body and shortcut shapes differ",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0024");

        /// <summary>CNN0025: "Concat 2: branch 1 gives 8x6x6 but branch 0 gives 8x12x12; concatenation over channels needs the same height and width in every branch".</summary>
        public static readonly DiagnosticDescriptor ConcatShapeMismatch = new(
            "CNN0025", "Concatenated branches differ in size",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0025");

        /// <summary>CNN0026: "Conv2d (layer 0): groups 4 must divide both the 6 input channels and the 8 output channels (6 % 4 = 2)".</summary>
        public static readonly DiagnosticDescriptor GroupsDoNotDivide = new(
            "CNN0026", "Groups must divide the channels",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0026");

        /// <summary>CNN0027: "ConvTranspose2d (layer 2): output padding 2 must be smaller than the stride 2 (PyTorch rejects it)".</summary>
        public static readonly DiagnosticDescriptor OutputPaddingTooLarge = new(
            "CNN0027", "Output padding not smaller than the stride",
            "{0}", ShapeCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0027");

        /// <summary>CNN0028: "LeNet5 needs 429,332 multiply-adds per sample, over its budget MaxMultiplyAdds = 300,000 by 129,332; the most: Conv2d (layer 3) 240,000 (56%), ...".</summary>
        public static readonly DiagnosticDescriptor MultiplyAddBudgetExceeded = new(
            "CNN0028", "Network over its multiply-add budget",
            "{0}", BudgetCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0028");

        /// <summary>CNN0029: "LeNet5 has 246,824 parameter bytes, over its budget MaxParameterBytes = 200,000 by 46,824; the most: Linear (layer 8) 192,480 (78%), ...".</summary>
        public static readonly DiagnosticDescriptor ParameterBudgetExceeded = new(
            "CNN0029", "Network over its parameter-bytes budget",
            "{0}", BudgetCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0029");

        /// <summary>CNN0030: "LeNet5 needs 23,520 workspace bytes per sample, over its budget MaxWorkspaceBytes = 16,000 by 7,520; the largest outputs: Conv2d (layer 0) 18,816 ...".</summary>
        public static readonly DiagnosticDescriptor WorkspaceBudgetExceeded = new(
            "CNN0030", "Network over its workspace budget",
            "{0}", BudgetCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0030");

        /// <summary>CNN0031: "The budget MaxMultiplyAdds must be positive; got 0 (leave it out for no budget)".</summary>
        public static readonly DiagnosticDescriptor InvalidBudget = new(
            "CNN0031", "Budget must be positive",
            "The budget {0} must be positive; got {1} (leave it out for no budget)", BudgetCategory, DiagnosticSeverity.Error, isEnabledByDefault: true,
            helpLinkUri: HelpLinkBase + "cnn0031");

        /// <summary>The rule for each kind of shape issue; null for a kind this catalog does not know yet.</summary>
        public static DiagnosticDescriptor? ForShapeIssue(ShapeIssueKind kind) => kind switch
        {
            ShapeIssueKind.NoLayers => NoLayers,
            ShapeIssueKind.NonPositiveInput => NonPositiveInput,
            ShapeIssueKind.NonPositiveArgument => NonPositiveArgument,
            ShapeIssueKind.NegativePadding => NegativePadding,
            ShapeIssueKind.ProbabilityOutOfRange => ProbabilityOutOfRange,
            ShapeIssueKind.InvalidBatchNormArgument => InvalidBatchNormArgument,
            ShapeIssueKind.NonFiniteSlope => NonFiniteSlope,
            ShapeIssueKind.KernelLargerThanInput => KernelLargerThanInput,
            ShapeIssueKind.StrideDropsCells => StrideDropsCells,
            ShapeIssueKind.PoolPaddingTooLarge => PoolPaddingTooLarge,
            ShapeIssueKind.SpatialLayerOnVector => SpatialLayerOnVector,
            ShapeIssueKind.LinearNeedsFlatten => LinearNeedsFlatten,
            ShapeIssueKind.FlattenOnVector => FlattenOnVector,
            ShapeIssueKind.SoftmaxNotLast => SoftmaxNotLast,
            ShapeIssueKind.TooLarge => TooLarge,
            ShapeIssueKind.UnbalancedBlock or ShapeIssueKind.UnclosedBlock => UnbalancedBlock,
            ShapeIssueKind.ResidualShapeMismatch => ResidualShapeMismatch,
            ShapeIssueKind.ConcatShapeMismatch => ConcatShapeMismatch,
            ShapeIssueKind.GroupsDoNotDivide => GroupsDoNotDivide,
            ShapeIssueKind.OutputPaddingTooLarge => OutputPaddingTooLarge,
            _ => null,
        };
    }
}
