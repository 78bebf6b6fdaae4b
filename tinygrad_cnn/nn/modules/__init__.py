"""`tg.nn.modules`: one file per layer family; every layer is composed from nn.functional."""
from .activation import (ELU, GELU, Hardtanh, LeakyReLU, LogSigmoid, LogSoftmax, Mish, ReLU, ReLU6, SiLU, Sigmoid,
                         Softmax, Softmin, Softplus, Tanh)
from .container import ModuleDict, ModuleList, Sequential
from .conv import LENET5_C3_TABLE, Conv2d, ConvTranspose2d
from .distance import CosineSimilarity, PairwiseDistance
from .dropout import Dropout, Dropout2d
from .flatten import Flatten, Unflatten
from .fold import AvgPool1d, Fold, MaxPool1d, Unfold
from .linear import Identity, Linear
from .loss import (BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, HuberLoss, KLDivLoss, L1Loss, MSELoss, NLLLoss,
                   SmoothL1Loss)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d, ConstantPad3d,
                      ReflectionPad1d, ReflectionPad2d, ReflectionPad3d, ReplicationPad1d, ReplicationPad2d,
                      ReplicationPad3d, ZeroPad1d, ZeroPad2d, ZeroPad3d)
from .param_containers import ParameterDict, ParameterList
from .pooling import AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, LPPool2d, MaxPool2d, StochasticPool2d
from .sparse import Embedding
from .sync_batchnorm import SyncBatchNorm
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d

__all__ = ["Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList", "ParameterDict", "Linear", "Identity",
           "Conv2d", "ConvTranspose2d", "LENET5_C3_TABLE", "MaxPool2d", "AvgPool2d", "LPPool2d", "AdaptiveAvgPool2d",
           "AdaptiveMaxPool2d", "StochasticPool2d", "BatchNorm1d", "BatchNorm2d", "LayerNorm", "Dropout", "Dropout2d",
           "ReLU", "ReLU6", "Hardtanh", "LeakyReLU", "ELU", "GELU", "Sigmoid", "Tanh", "Softplus", "SiLU", "Softmax",
           "LogSoftmax", "Flatten", "Unflatten", "CrossEntropyLoss", "NLLLoss", "MSELoss", "L1Loss", "BCELoss",
           "BCEWithLogitsLoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "Softmin", "LogSigmoid", "Mish", "GroupNorm",
           "Embedding", "Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d", "CosineSimilarity",
           "PairwiseDistance", "ConstantPad1d", "ConstantPad2d", "ConstantPad3d", "ZeroPad1d", "ZeroPad2d",
           "ZeroPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
           "ReplicationPad2d", "ReplicationPad3d", "CircularPad1d", "CircularPad2d", "CircularPad3d",
           "SyncBatchNorm", "Unfold", "Fold", "MaxPool1d", "AvgPool1d"]
