"""``prepare``: sources (folder, zip, tar), CelebA's layouts and annotations, decoding,
synthetic faces, written chunk by chunk into a store. Imports core and store."""

from latentkit.ingest.celeba import CELEBA_CROP
from latentkit.ingest.decoding import decode_images
from latentkit.ingest.prepare import prepare_celeba, prepare_images, prepare_synthetic

__all__ = ["CELEBA_CROP", "decode_images", "prepare_celeba", "prepare_images", "prepare_synthetic"]
