"""Examples of every command, written once: shown at the end of ``latentkit COMMAND --help`` and
in the documentation's CLI reference (``docs/hooks.py``). A test parses each line against the
command it names, so an example can never use an option that does not exist."""

EXAMPLES: dict[str, list[str]] = {
    "demo": ["latentkit demo", "latentkit demo --dir /tmp/lk --n 2048 --epochs 3", "latentkit demo --compare"],
    "env": ["latentkit env", "latentkit env --json"],
    "prepare synthetic": ["latentkit prepare synthetic --n 100000 --out data.zarr --size 96"],
    "prepare celeba": [
        "latentkit prepare celeba CelebA/Img/img_align_celeba.zip --out data.zarr --size 96",
        "latentkit prepare celeba archive.zip --out data.zarr --task 0 --tasks 8",
    ],
    "prepare images": [
        "latentkit prepare images photos/ --out photos.zarr --size 96 --crop center --split 0.8,0.1,0.1"
    ],
    "info": ["latentkit info data.zarr"],
    "presets": ["latentkit presets", "latentkit presets vae"],
    "train": [
        "latentkit train --data data.zarr --run runs/ae1 --job ae-case1 --epochs 20",
        "latentkit train --data data.zarr --run runs/vae --job vae --set model.kl_factor=5 --keep-every 5",
        "latentkit train --data data.zarr --run runs/ae1-back --from runs/ae1/checkpoints/epoch_0010.npz --lr 0.0001",
    ],
    "import-model": [
        "latentkit import-model my_ae.keras --run runs/mine --data data.zarr",
        "latentkit import-model encoder.keras decoder.keras --run runs/mine",
        "latentkit import-model ae.weights.h5 --factory my_models:build_ae --run runs/mine",
    ],
    "status": ["latentkit status --run runs/ae1", "latentkit status --run runs/ae1 --json"],
    "encode": [
        "latentkit encode --run runs/ae1 --chunk 20000",
        "latentkit encode --run runs/ae1 --chunk 20000 --task 0 --tasks 4",
        "latentkit encode --run runs/ae1 --chunk 20000 --restart-stale",
    ],
    "analyze": [
        "latentkit analyze --run runs/ae1",
        "latentkit analyze --latents vectors.npy --out results/ --labels labels.csv",
        "latentkit analyze --run runs/ae1 --pc-pairs 0:1,0:2,2:5 --trim 1.25,1.5,1.8 --hit-draws 100000 "
        "--uniform-b 0.5,1,2,8 --kmeans-k 2-30,40,60,80",
    ],
    "plane": [
        "latentkit plane --run runs/ae1 --pcs 0:1 --zoom 1,10,50",
        "latentkit plane --run runs/ae1 --axes 52:221 --zoom 50 --centre 0.3,-1.2",
        "latentkit plane --latents vectors.npy --out results/ --pcs 2:5",
    ],
    "lattice": [
        "latentkit lattice --run runs/ae1",
        "latentkit lattice --run runs/ae1 --n 16 --span 4",
        "latentkit lattice --run runs/ae1 --plane attributes:Smiling,Male --out smiling_male.png",
    ],
    "explore": [
        "latentkit explore --run runs/ae1",
        "latentkit explore --run runs/ae1 --port 8765 --sample 20000",
    ],
    "flow": ["latentkit flow --run runs/ae1", "latentkit flow --run runs/ae1 --epochs 60 --couplings 12"],
    "findings": ["latentkit findings --run runs/ae1", "latentkit findings --run runs/ae1 --json"],
    "report": ["latentkit report --run runs/ae1 --points 3000"],
    "generate": [
        "latentkit generate --run runs/ae1 --method mvn --n 28 --out mvn.png",
        "latentkit generate --run runs/ae1 --method uniform --b 3 --out uniform.png",
        "latentkit generate --run runs/ae1 --attribute Smiling --strength 1.5 --image 12 --out smile.png",
    ],
    "reconstruct": [
        "latentkit reconstruct --run runs/ae1 --n 16 --out recon.png",
        "latentkit reconstruct --run runs/ae1 --images my_photos/ --out mine.png",
    ],
    "interpolate": ["latentkit interpolate --run runs/ae1 --from 0 --to 1 --steps 10 --out path.png"],
    "attributes": ["latentkit attributes --run runs/ae1 --show Smiling --show Eyeglasses"],
    "compare": ["latentkit compare runs/ae1 runs/vae --out results/ae-vs-vae"],
    "export": [
        "latentkit export --run runs/ae1 --format parquet",
        "latentkit export --run runs/ae1 --format projector --sample 20000",
    ],
    "stage": ["latentkit stage /content/drive/MyDrive/celeba.zip /content/celeba.zip"],
    "sync": ["latentkit sync /content/runs/ae1 /content/drive/MyDrive/runs/ae1"],
    "upgrade": ["latentkit upgrade data.zarr"],
    "slurm submit": [
        "latentkit slurm submit --run /scratch/runs/ae1 --data /scratch/celeba.zarr --from /data/CelebA "
        "--encode-tasks 8"
    ],
}


def epilog(name: str) -> str | None:
    """The examples of command ``name`` ("slurm submit" for a subcommand) as a help epilog."""
    lines = EXAMPLES.get(name)
    if not lines:
        return None
    # click rewraps an epilog's paragraphs; \b keeps each example on its own line
    return "Examples:\n\n\b\n" + "\n".join(f"  {line}" for line in lines)
