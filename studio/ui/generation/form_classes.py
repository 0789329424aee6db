"""Every generation mode's form, in the order the panel's Mode box lists them."""

from studio.ui.generation.generation_forms import (
    ContinueForm,
    HarmonizeForm,
    InfillForm,
    InterpolateForm,
    MelodyForm,
)
from studio.ui.generation.generation_pop_forms import AccompanyForm, PopInfillForm

FORM_CLASSES = (HarmonizeForm, AccompanyForm, MelodyForm, ContinueForm, InfillForm, InterpolateForm,
                PopInfillForm)
