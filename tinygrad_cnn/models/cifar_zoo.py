"""Four standard CIFAR-10 architectures, written exactly as a PyTorch user writes them.

ResNet-18 (CIFAR variant: 3x3 stem, no max-pool), VGG-11 with BatchNorm, MobileNetV2 (CIFAR strides, depthwise
convolutions via `groups`, ReLU6) and DenseNet-121 (growth 32), after the widely used pytorch-cifar layouts.

The source below uses only the torch API. The three import lines are the only tinygrad_cnn-specific text: replace
`tinygrad_cnn` by `torch` in them and the same file builds the same networks in PyTorch with the same state_dict
keys (tests/test_cifar_zoo.py does exactly that for its torch twins), so weights move both ways.

Shapes: every model maps (N, 3, 32, 32) -> (N, num_classes) raw logits (train with `F.cross_entropy`).
"""
import tinygrad_cnn as torch
import tinygrad_cnn.nn as nn
import tinygrad_cnn.nn.functional as F


# --- ResNet-18 -------------------------------------------------------------------------------------------------
class BasicBlock(nn.Module):
    """Two 3x3 conv-BN layers and a shortcut (1x1 conv-BN when the shape changes). (N, C, H, W) -> (N, P, H/s, W/s)."""

    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        out = out + self.shortcut(x)
        return F.relu(out)


class ResNet(nn.Module):
    """3x3 stem (64), four stages of BasicBlocks (64, 128, 256, 512; strides 1, 2, 2, 2), global average, linear.

    Shape: (N, 3, 32, 32) -> (N, 64, 32, 32) -> ... -> (N, 512, 4, 4) -> (N, 512) -> (N, num_classes).
    """

    def __init__(self, block, num_blocks, num_classes=10):
        super().__init__()
        self.in_planes = 64
        self.conv1 = nn.Conv2d(3, 64, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.layer1 = self._make_layer(block, 64, num_blocks[0], stride=1)
        self.layer2 = self._make_layer(block, 128, num_blocks[1], stride=2)
        self.layer3 = self._make_layer(block, 256, num_blocks[2], stride=2)
        self.layer4 = self._make_layer(block, 512, num_blocks[3], stride=2)
        self.linear = nn.Linear(512 * block.expansion, num_classes)

    def _make_layer(self, block, planes, num_blocks, stride):
        layers = []
        for s in [stride] + [1] * (num_blocks - 1):
            layers.append(block(self.in_planes, planes, s))
            self.in_planes = planes * block.expansion
        return nn.Sequential(*layers)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.layer4(self.layer3(self.layer2(self.layer1(out))))
        out = F.adaptive_avg_pool2d(out, 1)
        out = torch.flatten(out, 1)
        return self.linear(out)


def resnet18_cifar(num_classes=10):
    """ResNet-18 for 32x32 inputs (11.2 M parameters)."""
    return ResNet(BasicBlock, [2, 2, 2, 2], num_classes)


# --- VGG-11 with BatchNorm -------------------------------------------------------------------------------------
VGG11_CFG = [64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"]


class VGG(nn.Module):
    """conv3x3-BN-ReLU stacks with 2x2 max-pools (cfg), then a linear classifier on the 512 x 1 x 1 features.

    Shape: (N, 3, 32, 32) -> (N, 512, 1, 1) -> (N, 512) -> (N, num_classes).
    """

    def __init__(self, cfg, num_classes=10):
        super().__init__()
        layers = []
        in_channels = 3
        for v in cfg:
            if v == "M":
                layers += [nn.MaxPool2d(kernel_size=2, stride=2)]
            else:
                layers += [nn.Conv2d(in_channels, v, kernel_size=3, padding=1), nn.BatchNorm2d(v),
                           nn.ReLU(inplace=True)]
                in_channels = v
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Linear(512, num_classes)

    def forward(self, x):
        out = self.features(x)
        out = out.view(out.size(0), -1)
        return self.classifier(out)


def vgg11_bn_cifar(num_classes=10):
    """VGG-11 with BatchNorm for 32x32 inputs (9.2 M parameters)."""
    return VGG(VGG11_CFG, num_classes)


# --- MobileNetV2 -----------------------------------------------------------------------------------------------
class InvertedResidual(nn.Module):
    """expand (1x1) -> depthwise 3x3 (groups = channels) -> project (1x1, linear); residual when shapes allow."""

    def __init__(self, in_planes, out_planes, expansion, stride):
        super().__init__()
        self.stride = stride
        planes = expansion * in_planes
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=stride, padding=1, groups=planes, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.conv3 = nn.Conv2d(planes, out_planes, kernel_size=1, bias=False)
        self.bn3 = nn.BatchNorm2d(out_planes)
        self.shortcut = nn.Sequential()
        if stride == 1 and in_planes != out_planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, out_planes, kernel_size=1, bias=False),
                nn.BatchNorm2d(out_planes),
            )

    def forward(self, x):
        out = F.relu6(self.bn1(self.conv1(x)))
        out = F.relu6(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return out + self.shortcut(x) if self.stride == 1 else out


class MobileNetV2(nn.Module):
    """MobileNetV2 with CIFAR strides (stem stride 1, the second stage stride 1).

    Shape: (N, 3, 32, 32) -> (N, 32, 32, 32) -> ... -> (N, 320, 4, 4) -> (N, 1280, 4, 4) -> (N, num_classes).
    """

    # (expansion, out_planes, num_blocks, stride)
    cfg = [(1, 16, 1, 1), (6, 24, 2, 1), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]

    def __init__(self, num_classes=10):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(32)
        layers = []
        in_planes = 32
        for expansion, out_planes, num_blocks, stride in self.cfg:
            for s in [stride] + [1] * (num_blocks - 1):
                layers.append(InvertedResidual(in_planes, out_planes, expansion, s))
                in_planes = out_planes
        self.layers = nn.Sequential(*layers)
        self.conv2 = nn.Conv2d(320, 1280, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(1280)
        self.dropout = nn.Dropout(0.2)
        self.linear = nn.Linear(1280, num_classes)

    def forward(self, x):
        out = F.relu6(self.bn1(self.conv1(x)))
        out = self.layers(out)
        out = F.relu6(self.bn2(self.conv2(out)))
        out = F.avg_pool2d(out, 4)
        out = out.flatten(1)
        return self.linear(self.dropout(out))


def mobilenet_v2_cifar(num_classes=10):
    """MobileNetV2 for 32x32 inputs (2.3 M parameters)."""
    return MobileNetV2(num_classes)


# --- DenseNet-121 ----------------------------------------------------------------------------------------------
class Bottleneck(nn.Module):
    """BN-ReLU-conv1x1 (4 * growth) -> BN-ReLU-conv3x3 (growth), concatenated to the input: C -> C + growth."""

    def __init__(self, in_planes, growth_rate):
        super().__init__()
        self.bn1 = nn.BatchNorm2d(in_planes)
        self.conv1 = nn.Conv2d(in_planes, 4 * growth_rate, kernel_size=1, bias=False)
        self.bn2 = nn.BatchNorm2d(4 * growth_rate)
        self.conv2 = nn.Conv2d(4 * growth_rate, growth_rate, kernel_size=3, padding=1, bias=False)

    def forward(self, x):
        out = self.conv1(F.relu(self.bn1(x)))
        out = self.conv2(F.relu(self.bn2(out)))
        return torch.cat([out, x], 1)


class Transition(nn.Module):
    """BN-ReLU-conv1x1 (compress channels) then 2x2 average pooling: (N, C, H, W) -> (N, C', H/2, W/2)."""

    def __init__(self, in_planes, out_planes):
        super().__init__()
        self.bn = nn.BatchNorm2d(in_planes)
        self.conv = nn.Conv2d(in_planes, out_planes, kernel_size=1, bias=False)

    def forward(self, x):
        out = self.conv(F.relu(self.bn(x)))
        return F.avg_pool2d(out, 2)


class DenseNet(nn.Module):
    """Four dense blocks with transitions (reduction 0.5), then BN-ReLU, 4x4 average pooling and a linear layer.

    Shape: (N, 3, 32, 32) -> (N, 64, 32, 32) -> ... -> (N, 1024, 4, 4) -> (N, 1024) -> (N, num_classes).
    """

    def __init__(self, nblocks, growth_rate=32, reduction=0.5, num_classes=10):
        super().__init__()
        self.growth_rate = growth_rate
        num_planes = 2 * growth_rate
        self.conv1 = nn.Conv2d(3, num_planes, kernel_size=3, padding=1, bias=False)
        stages = []
        for i, n in enumerate(nblocks):
            stages.append(self._make_dense_layers(num_planes, n))
            num_planes += n * growth_rate
            if i < len(nblocks) - 1:
                out_planes = int(num_planes * reduction)
                stages.append(Transition(num_planes, out_planes))
                num_planes = out_planes
        self.dense1, self.trans1, self.dense2, self.trans2, self.dense3, self.trans3, self.dense4 = stages
        self.bn = nn.BatchNorm2d(num_planes)
        self.linear = nn.Linear(num_planes, num_classes)

    def _make_dense_layers(self, in_planes, nblock):
        layers = []
        for _ in range(nblock):
            layers.append(Bottleneck(in_planes, self.growth_rate))
            in_planes += self.growth_rate
        return nn.Sequential(*layers)

    def forward(self, x):
        out = self.conv1(x)
        out = self.trans1(self.dense1(out))
        out = self.trans2(self.dense2(out))
        out = self.trans3(self.dense3(out))
        out = self.dense4(out)
        out = F.avg_pool2d(F.relu(self.bn(out)), 4)
        out = out.view(out.size(0), -1)
        return self.linear(out)


def densenet121_cifar(num_classes=10):
    """DenseNet-121 (blocks 6, 12, 24, 16; growth 32) for 32x32 inputs (7.0 M parameters)."""
    return DenseNet([6, 12, 24, 16], growth_rate=32, num_classes=num_classes)
