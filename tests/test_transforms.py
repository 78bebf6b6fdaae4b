"""tg.datasets.transforms against torchvision's formulas written out with torch ops (torchvision is not installed)."""
from __future__ import annotations

import numpy as np
import pytest

import tinygrad_cnn as tg
from tinygrad_cnn.datasets import transforms as T
from tinygrad_cnn.datasets.transforms import functional as TF

torch = pytest.importorskip("torch")
F = torch.nn.functional
rng = np.random.default_rng(0)


def _u8(*shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


@pytest.mark.parametrize("shape", [(5, 7, 3), (6, 4), (2, 3, 1)])
def test_to_tensor_matches_torchvision_formula(shape):
    img = _u8(*shape)
    out = T.ToTensor()(img)
    hwc = torch.from_numpy(img if img.ndim == 3 else img[:, :, None])
    expected = hwc.permute(2, 0, 1).contiguous().to(torch.float32).div(255)  # torchvision's to_tensor
    assert out.dtype == tg.float32 and tuple(out.shape) == tuple(expected.shape)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_to_tensor_keeps_non_byte_values_and_rejects_bad_input():
    img = rng.random((4, 5, 2))
    out = T.ToTensor()(img)
    assert out.dtype == tg.float64 and np.array_equal(out.numpy(), img.transpose(2, 0, 1))
    with pytest.raises(TypeError, match="pic should be PIL Image or ndarray. Got <class 'tinygrad_cnn.tensor.Tensor'>"):
        T.ToTensor()(tg.zeros(3, 4, 4))
    with pytest.raises(ValueError, match="pic should be 2/3 dimensional. Got 4 dimensions."):
        T.ToTensor()(_u8(1, 2, 3, 4))


@pytest.mark.parametrize("shape,mean,std", [((3, 5, 6), (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
                                            ((4, 1, 8, 8), (0.1307,), (0.3081,)),
                                            ((2, 3, 4, 4), (0.5,), (0.25,))])
def test_normalize_matches_torchvision_formula(shape, mean, std):
    x = rng.random(shape, dtype=np.float32)
    out = T.Normalize(mean, std)(tg.from_numpy(x))
    m = torch.as_tensor(mean, dtype=torch.float32).view(-1, 1, 1)
    s = torch.as_tensor(std, dtype=torch.float32).view(-1, 1, 1)
    expected = (torch.from_numpy(x) - m) / s  # torchvision: tensor.sub_(mean).div_(std)
    assert out.dtype == tg.float32
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_normalize_dtype_inplace_grad_and_errors():
    x64 = tg.rand(2, 3, 3, dtype=tg.float64)
    assert T.Normalize((0.5, 0.5), (2.0, 4.0))(x64).dtype == tg.float64
    x = tg.rand(1, 2, 2, requires_grad=True)
    T.Normalize((0.1,), (0.5,))(x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full((1, 2, 2), 2.0))
    y = tg.ones(1, 2, 2)
    assert T.Normalize((0.5,), (0.25,), inplace=True)(y) is y and y.tolist() == [[[2.0, 2.0], [2.0, 2.0]]]
    with pytest.raises(TypeError, match="Input tensor should be a float tensor. Got tinygrad_cnn.uint8."):
        T.Normalize((0.5,), (0.5,))(tg.zeros(1, 2, 2, dtype=tg.uint8))
    with pytest.raises(TypeError, match="img should be Tensor Image"):
        T.Normalize((0.5,), (0.5,))(np.zeros((1, 2, 2), np.float32))
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to tinygrad_cnn.float32"):
        T.Normalize((0.5, 0.5), (1.0, 0.0))(tg.zeros(2, 2, 2))
    with pytest.raises(ValueError, match=r"mean has 3 values but the image has 2 channels \(shape \(2, 4, 4\)\)"):
        T.Normalize((0.1, 0.2, 0.3), (1.0,))(tg.zeros(2, 4, 4))
    with pytest.raises(ValueError, match=r"Expected tensor to be a tensor image of size \(..., C, H, W\)"):
        T.Normalize((0.5,), (0.5,))(tg.zeros(4, 4))


# torchvision padding forms -> torch.nn.functional.pad's (left, right, top, bottom)
PAD_FORMS = [(2, (2, 2, 2, 2)), ((1, 3), (1, 1, 3, 3)), ((1, 2, 3, 4), (1, 3, 2, 4)), ([2], (2, 2, 2, 2))]


@pytest.mark.parametrize("padding,lrtb", PAD_FORMS)
@pytest.mark.parametrize("mode,torch_mode", [("constant", "constant"), ("edge", "replicate"),
                                             ("reflect", "reflect")])
def test_pad_tensor_matches_torch(padding, lrtb, mode, torch_mode):
    x = rng.random((2, 3, 6, 7)).astype(np.float32)
    out = T.Pad(padding, fill=0.5 if mode == "constant" else 0, padding_mode=mode)(tg.from_numpy(x))
    kwargs = {"value": 0.5} if mode == "constant" else {}
    expected = F.pad(torch.from_numpy(x), lrtb, mode=torch_mode, **kwargs)
    np.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_pad_numpy_images_symmetric_negative_and_lenet_size():
    img = _u8(28, 28)
    out = T.Pad(2)(img)
    assert isinstance(out, np.ndarray) and out.shape == (32, 32) and out.dtype == np.uint8
    assert (out[:2] == 0).all() and (out[2:30, 2:30] == img).all()
    rgb = _u8(4, 5, 3)
    framed = T.Pad(1, fill=(10, 20, 30))(rgb)
    assert framed.shape == (6, 7, 3) and framed[0, 0].tolist() == [10, 20, 30] and (framed[1:5, 1:6] == rgb).all()
    row = np.array([[1, 2, 3]], np.uint8)
    assert TF.pad(row, (2, 0), padding_mode="symmetric")[0].tolist() == [2, 1, 1, 2, 3, 3, 2]
    assert TF.pad(row, (2, 0), padding_mode="reflect")[0].tolist() == [3, 2, 1, 2, 3, 2, 1]
    x = tg.arange(16.0).reshape(1, 4, 4)
    np.testing.assert_array_equal(TF.pad(x, (-1, 0, 1, -2)).numpy(), F.pad(torch.arange(16.0).reshape(1, 4, 4),
                                                                            (-1, 1, 0, -2)).numpy())


def test_pad_argument_errors():
    with pytest.raises(TypeError, match="Got inappropriate padding arg"):
        T.Pad("2")
    with pytest.raises(TypeError, match="Got inappropriate fill arg"):
        T.Pad(2, fill="red")
    with pytest.raises(ValueError, match="Padding mode should be either constant, edge, reflect or symmetric"):
        T.Pad(2, padding_mode="wrap")
    with pytest.raises(ValueError, match="Padding must be an int or a 1, 2, or 4 element tuple, not a 3 element"):
        T.Pad((1, 2, 3))


@pytest.mark.parametrize("h,w,size", [(28, 28, 24), (5, 5, 2), (6, 9, (3, 4)), (3, 3, 5)])
def test_center_crop_formula(h, w, size):
    x = np.arange(h * w, dtype=np.float32).reshape(1, h, w)
    out = T.CenterCrop(size)(tg.from_numpy(x)).numpy()
    th, tw = (size, size) if isinstance(size, int) else size
    if th > h:  # torchvision pads a too-small image with zeros first, (diff // 2) on the top/left
        x = F.pad(torch.from_numpy(x), ((tw - w) // 2, (tw - w + 1) // 2, (th - h) // 2, (th - h + 1) // 2)).numpy()
        h, w = th, tw
    top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
    np.testing.assert_array_equal(out, x[:, top:top + th, left:left + tw])


def _offset(window: np.ndarray, padded: np.ndarray) -> tuple:
    """The (top, left) where window sits in padded ((..., H, W) arrays); fails when it is nowhere."""
    th, tw = window.shape[-2:]
    hits = [(i, j) for i in range(padded.shape[-2] - th + 1) for j in range(padded.shape[-1] - tw + 1)
            if np.array_equal(padded[..., i:i + th, j:j + tw], window)]
    assert hits, "the crop is not a window of the padded image"
    return hits[0]


def test_random_crop_is_a_uniform_window_and_seeded():
    x = np.arange(25, dtype=np.float32).reshape(1, 5, 5)
    crop = T.RandomCrop(3, padding=1)
    padded = F.pad(torch.from_numpy(x), (1, 1, 1, 1)).numpy()
    tg.manual_seed(0)
    offsets = [_offset(crop(tg.from_numpy(x)).numpy(), padded) for _ in range(400)]
    counts = np.bincount([i * 5 + j for i, j in offsets], minlength=25)
    assert (counts > 0).all() and counts.max() < 3 * counts.min() + 10  # all 25 offsets, roughly evenly
    tg.manual_seed(0)
    assert [_offset(crop(tg.from_numpy(x)).numpy(), padded) for _ in range(20)] == offsets[:20]
    assert crop(_u8(5, 5, 3)).shape == (3, 3, 3)
    assert T.RandomCrop(5, pad_if_needed=True)(_u8(3, 3)).shape == (5, 5)
    with pytest.raises(ValueError, match=r"Required crop size \(6, 6\) is larger than input image size \(5, 5\)"):
        T.RandomCrop(6)(tg.from_numpy(x))


def test_random_flips():
    x = tg.arange(12.0).reshape(1, 3, 4)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1])
    np.testing.assert_array_equal(T.RandomVerticalFlip(p=1.0)(x).numpy(), x.numpy()[..., ::-1, :])
    assert T.RandomHorizontalFlip(p=0.0)(x) is x
    img = _u8(3, 4, 3)
    np.testing.assert_array_equal(T.RandomHorizontalFlip(1.0)(img), img[:, ::-1])
    tg.manual_seed(1)
    flips = sum(T.RandomHorizontalFlip()(x).numpy()[0, 0, 0] == 3.0 for _ in range(400))
    assert 150 < flips < 250


def test_compose_and_lambda():
    pipeline = T.Compose([T.ToTensor(), T.Pad(2), T.Normalize((0.5,), (0.5,)), T.Lambda(lambda t: t * 0 + 1)])
    out = pipeline(_u8(28, 28))
    assert tuple(out.shape) == (1, 32, 32) and out.numpy().min() == 1
    assert "ToTensor()" in repr(pipeline) and "Pad(padding=2" in repr(pipeline)
    with pytest.raises(TypeError, match="Argument lambd should be callable, got 'int'"):
        T.Lambda(3)


def test_dataset_transform_pipeline_matches_formula():
    ds = tg.datasets.SyntheticDigits(n=4, transform=T.Compose([T.ToTensor(), T.Normalize((0.1307,), (0.3081,))]))
    img, _ = ds[2]
    raw = torch.from_numpy(ds.data.numpy()[2]).float().div(255)[None]
    np.testing.assert_allclose(img.numpy(), ((raw - 0.1307) / 0.3081).numpy(), rtol=0, atol=1e-6)


def test_batch_random_crop_per_sample():
    x = rng.random((16, 2, 8, 8)).astype(np.float32)
    padded = np.pad(x, ((0, 0), (0, 0), (2, 2), (2, 2)))
    tg.manual_seed(3)
    out = T.BatchRandomCrop(8, padding=2)(tg.from_numpy(x))
    assert tuple(out.shape) == (16, 2, 8, 8)
    offsets = {_offset(out.numpy()[k], padded[k]) for k in range(16)}
    assert len(offsets) > 3  # independent draws, not one crop for the whole batch
    tg.manual_seed(3)
    np.testing.assert_array_equal(T.BatchRandomCrop(8, padding=2)(tg.from_numpy(x)).numpy(), out.numpy())
    with pytest.raises(ValueError, match=r"expected a batch \(N, C, H, W\), got \(2, 8, 8\)"):
        T.BatchRandomCrop(4)(tg.zeros(2, 8, 8))


def test_batch_random_horizontal_flip_per_sample():
    x = rng.random((64, 1, 3, 5)).astype(np.float32)
    out = T.BatchRandomHorizontalFlip()(tg.from_numpy(x)).numpy()
    flipped = [np.array_equal(out[k], x[k, :, :, ::-1]) for k in range(64)]
    kept = [np.array_equal(out[k], x[k]) for k in range(64)]
    assert all(f != k for f, k in zip(flipped, kept)) and 12 < sum(flipped) < 52
    assert np.array_equal(T.BatchRandomHorizontalFlip(p=1.0)(x), x[..., ::-1])
