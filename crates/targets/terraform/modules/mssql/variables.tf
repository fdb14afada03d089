variable "name" {
  type        = string
  description = "Name of the Kubernetes objects (a DNS label)."
}

variable "namespace" {
  type        = string
  description = "Namespace of the Kubernetes objects; null: the provider's default namespace."
  default     = null
}

variable "image" {
  type        = string
  description = "Container image."
  default     = "mcr.microsoft.com/mssql/server:2022-CU16-ubuntu-22.04"
}

variable "storage_size" {
  type        = string
  description = "Size of the data volume."
  default     = "1Gi"
}

variable "storage_class" {
  type        = string
  description = "Storage class of the data volume; null: the cluster's default."
  default     = null
}
