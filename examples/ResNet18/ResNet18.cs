// The class the generator fills from resnet18.bnn, declared here to make it public (tests and other programs build it).
namespace BnnDsl.Examples.ResNet18;

/// <summary>
/// ResNet-18 for CIFAR-10, binarized in the Bi-Real Net style (Liu et al., 2018): declared in <c>resnet18.bnn</c>, whose
/// layers, Forward and Backward the generator writes into this class.
/// </summary>
public partial class ResNet18;
