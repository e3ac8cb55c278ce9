"""Save every outside model of ``mymodels.py`` (next to this run's models) and the latents each
model's own encoder gives for a store's images: ``python outside_build.py FOLDER STORE [jax]``.
Run in a process of its own, so the test process has not registered the custom classes."""

import sys
from pathlib import Path

import numpy as np
import zarr

out, store = Path(sys.argv[1]), sys.argv[2]
sys.path.insert(0, str(out))
import keras  # noqa: E402
import mymodels  # noqa: E402

keras.utils.set_random_seed(0)
if sys.argv[3:] == ["jax"]:  # a model whose layer calls jax.numpy: it runs only under the JAX backend
    mymodels.jax_ae().save(out / "jax.keras")
    sys.exit(0)

images = zarr.open_group(store, mode="r")["images"][:].astype("float32") / 255.0
reference = {}

ae = mymodels.functional_ae()
ae.save(out / "functional.keras")
reference["functional"] = ae.get_layer("encoder").predict(images, verbose=0)
ae.get_layer("encoder").save(out / "encoder.keras")
ae.get_layer("decoder").save(out / "decoder.keras")
reference["split"] = reference["encoder_only"] = reference["functional"]

subclassed = mymodels.SubclassedAE()
subclassed(images[:2])
subclassed.save(out / "subclassed.keras")
reference["subclassed"] = subclassed.encoder.predict(images, verbose=0)

vae = mymodels.vae()
vae.save(out / "vae.keras")
reference["vae"], reference["vae_logvar"], _ = vae.get_layer("encoder").predict(images, verbose=0)

tanh = mymodels.functional_ae(activation="tanh")
tanh.save(out / "tanh.keras")
reference["tanh"] = tanh.get_layer("encoder").predict(images * 2.0 - 1.0, verbose=0)

with_lambda = mymodels.lambda_ae()
with_lambda.save(out / "lambda.keras")
reference["lambda"] = with_lambda.get_layer("encoder").predict(images, verbose=0)

factory = mymodels.build_functional_ae()
factory.save_weights(out / "ae.weights.h5")
reference["factory"] = factory.get_layer("enc").predict(images, verbose=0)
np.savez(out / "reference.npz", **reference)
