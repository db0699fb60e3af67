//! Reading weights and writing results: safetensors (PyTorch `state_dict` names) and NumPy `.npy`.

pub mod npy;
pub mod safetensors;
